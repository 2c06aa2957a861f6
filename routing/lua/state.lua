-- Hotline's router: every state change of a call or an agent is one run of this script, so
-- matching is atomic however many API processes and workers call it.
--
-- ARGV[1] is the operation; the rest are its arguments. Keys all carry the {rt} hash tag,
-- so they live in one Redis Cluster slot.
--
-- Waiting calls: one sorted set per queue, escalation step and language
--   {rt}:wait:<queue>:<step>:<lang>  (lang "*" for steps that accept any language)
--   score = enqueue time - priority credit: the order callers are served in.
-- Available agents: one sorted set per skill, language and level
--   {rt}:avail:<skill>:<lang>:<level>  score = idle since (longest idle first), or
--   calls today * 1e10 + idle since (fewest calls first).
-- Every change is appended to the stream {rt}:events for figures and the audit trail.

local P = '{rt}:'
local op = ARGV[1]
-- ARGV[2] is the time (epoch seconds) for every operation but `configure`. The text is
-- stored as given, so a timer can later name the exact `since` it belongs to.
local NOW_S = ARGV[2]
local NOW = tonumber(NOW_S)

if op == 'configure' then
  redis.call('SET', P .. 'cfg', ARGV[2])
  return 'ok'
end
local cfg = cjson.decode(redis.call('GET', P .. 'cfg') or '{"queues":{},"languages":[],"strategy":"longest_idle"}')
local QUEUES = cfg.queues
local TERMINAL_TTL = 86400
-- The live figures' counters (stats.lua, loaded after this file) hook into the changes below.
local stats = {}

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local result = {}
  for i = 1, #flat, 2 do result[flat[i]] = flat[i + 1] end
  return result
end

local function event(kind, ...)
  redis.call('XADD', P .. 'events', 'MAXLEN', '~', 500000, '*', 'kind', kind, ...)
end

-- Agents -----------------------------------------------------------------------------------

local function agent_key(id) return P .. 'agent:' .. id end

local function avail_keys(agent)
  local keys = {}
  local skills = cjson.decode(agent.skills or '{}')
  local langs = cjson.decode(agent.langs or '[]')
  for skill, level in pairs(skills) do
    for _, lang in ipairs(langs) do
      keys[#keys + 1] = P .. 'avail:' .. skill .. ':' .. lang .. ':' .. level
    end
  end
  return keys
end

-- Who asked for the change: a person through the API (already written to the database by
-- the API), or '' for the router itself (written later from this stream).
local ACTOR = ''

local function set_agent_state(id, agent, state, now, reason)
  local before = agent.state or 'offline'
  stats.agent_state(id, agent, before, state, now)
  redis.call('HSET', agent_key(id), 'state', state, 'since', NOW_S, 'reason', reason or '')
  agent.state, agent.since = state, NOW_S
  if before ~= state then
    event('agent_state', 'agent', id, 'from', before, 'to', state, 'at', now,
      'reason', reason or '', 'call', agent.call or '', 'actor', ACTOR)
  end
end

local function idle_score(agent)
  local idle = tonumber(agent.idle) or 0
  if cfg.strategy == 'fewest_calls' then
    return (tonumber(agent.calls) or 0) * 1e10 + idle
  end
  return idle
end

local function add_available(id, agent)
  local score = idle_score(agent)
  for _, key in ipairs(avail_keys(agent)) do redis.call('ZADD', key, score, id) end
end

local function remove_available(id, agent)
  for _, key in ipairs(avail_keys(agent)) do redis.call('ZREM', key, id) end
end

-- Queues and steps -------------------------------------------------------------------------

-- The queue and step a caller belongs to after waiting `waited` seconds; overflow moves them
-- to another queue whose steps count from the same original arrival.
local function place_for(queue, waited)
  for _ = 1, 4 do
    local steps = QUEUES[queue].steps
    local index = 1
    for i, step in ipairs(steps) do
      if waited >= step.after then index = i end
    end
    local step = steps[index]
    if step.overflow and step.overflow ~= false and QUEUES[step.overflow] then
      queue = step.overflow
    else
      return queue, index
    end
  end
  return queue, 1
end

-- Seconds until this call's next step falls due, or -1.
local function next_step_in(queue, index, waited)
  local steps = QUEUES[queue].steps
  local step = steps[index + 1]
  if step == nil then return -1 end
  return math.max(step.after - waited, 0)
end

local function wait_key(queue, index, lang)
  local step = QUEUES[queue].steps[index]
  if step.any_language then lang = '*' end
  return P .. 'wait:' .. queue .. ':' .. index .. ':' .. lang
end

-- The best available agent for a call at (queue, step), or nil.
local function find_agent(queue, index, lang)
  local q = QUEUES[queue]
  local step = q.steps[index]
  local langs = step.any_language and cfg.languages or { lang }
  local best, best_score = nil, nil
  local from, to, by = step.min_level, 10, 1
  if cfg.strategy == 'most_skilled' then from, to, by = 10, step.min_level, -1 end
  for level = from, to, by do
    for _, l in ipairs(langs) do
      local head = redis.call('ZRANGE', P .. 'avail:' .. q.skill .. ':' .. l .. ':' .. level, 0, 0, 'WITHSCORES')
      if head[1] and (best_score == nil or tonumber(head[2]) < best_score) then
        best, best_score = head[1], tonumber(head[2])
      end
    end
    if best and cfg.strategy == 'most_skilled' then return best end
  end
  return best
end

-- The waiting call an agent should take next, or nil: the lowest score among the heads of
-- every queue, step and language the agent qualifies for.
local function find_call(agent)
  local skills = cjson.decode(agent.skills or '{}')
  local langs = cjson.decode(agent.langs or '[]')
  langs[#langs + 1] = '*'
  local best, best_key, best_score = nil, nil, nil
  for name, q in pairs(QUEUES) do
    local level = tonumber(skills[q.skill])
    if level then
      for index, step in ipairs(q.steps) do
        if not (step.overflow and step.overflow ~= false) and level >= step.min_level then
          for _, l in ipairs(langs) do
            local key = P .. 'wait:' .. name .. ':' .. index .. ':' .. l
            local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
            if head[1] and (best_score == nil or tonumber(head[2]) < best_score) then
              best, best_key, best_score = head[1], key, tonumber(head[2])
            end
          end
        end
      end
    end
  end
  return best, best_key
end

-- Calls ------------------------------------------------------------------------------------

local function call_key(sid) return P .. 'call:' .. sid end

-- Timers live here too, in one sorted set scored by when they fall due; the `tick` operation
-- (run every second by a job) fires the due ones. Kinds: esc|<call> (next escalation step),
-- exp|<call>|<offered_at> (an offer nobody reported on), wrap|<agent>|<since> (wrap-up end).
local TIMERS = P .. 'timers'

local function timer(member, due)
  redis.call('ZADD', TIMERS, due, member)
end

local function contact_of(id)
  return redis.call('HGET', agent_key(id), 'contact') or ''
end

local function reserve(sid, call, id, now)
  local agent = hgetall(agent_key(id))
  if call.wait_key and call.wait_key ~= '' then
    redis.call('ZREM', call.wait_key, sid)
    stats.not_waiting(call.queue, sid)
  end
  remove_available(id, agent)
  redis.call('HSET', call_key(sid), 'state', 'offered', 'agent', id, 'offered_at', NOW_S, 'wait_key', '')
  call.offered_at = NOW_S
  -- A caller called back (virtual hold) has their own phone to ring before the agent's.
  local expiry = (cfg.ring_timeout or 20) + (cfg.offer_grace or 30)
  if call.vh == '1' then expiry = expiry + (cfg.hold_ring or 30) end
  timer('exp|' .. sid .. '|' .. NOW_S, NOW + expiry)
  redis.call('HSET', agent_key(id), 'call', sid, 'idle_before_offer', agent.idle or now)
  agent.call = sid
  set_agent_state(id, agent, 'reserved', now)
  event('call_offered', 'call', sid, 'agent', id, 'queue', call.queue, 'at', now)
  return id
end

local function enqueue_waiting(sid, call, now)
  local waited = now - tonumber(call.enq)
  local queue, index = place_for(call.home, waited)
  local key = wait_key(queue, index, call.lang)
  redis.call('ZADD', key, tonumber(call.score), sid)
  stats.waiting(queue, sid, call.enq)
  redis.call('HSET', call_key(sid), 'state', 'waiting', 'queue', queue, 'step', index,
    'wait_key', key, 'agent', '')
  call.queue, call.step, call.wait_key = queue, index, key
  local next_in = next_step_in(queue, index, waited)
  if next_in >= 0 then timer('esc|' .. sid, now + next_in) end
  return queue, index
end

-- Try to give a waiting call to an agent; returns the agent id or nil.
local function match_call(sid, call, now)
  local agent = find_agent(call.queue, tonumber(call.step), call.lang)
  if agent then return reserve(sid, call, agent, now) end
  return nil
end

-- Try to give an available agent a waiting call; returns the call sid or nil.
local function match_agent(id, agent, now)
  local sid = find_call(agent)
  if sid == nil then return nil end
  local call = hgetall(call_key(sid))
  reserve(sid, call, id, now)
  return sid
end

local function become_available(id, agent, now)
  agent.idle = now
  redis.call('HSET', agent_key(id), 'idle', now, 'call', '')
  agent.call = ''
  set_agent_state(id, agent, 'available', now)
  add_available(id, agent)
  return match_agent(id, agent, now)
end

-- Move a waiting call to the step (or overflow queue) its wait has reached, then try to give
-- it to an agent. Returns the agent id or nil.
local function advance_step(sid, call, now)
  local queue, index = place_for(call.home, now - tonumber(call.enq))
  if queue == call.queue and index == tonumber(call.step) then return nil end
  redis.call('ZREM', call.wait_key, sid)
  stats.not_waiting(call.queue, sid)
  local key = wait_key(queue, index, call.lang)
  redis.call('ZADD', key, tonumber(call.score), sid)
  stats.waiting(queue, sid, call.enq)
  redis.call('HSET', call_key(sid), 'queue', queue, 'step', index, 'wait_key', key)
  call.queue, call.step, call.wait_key = queue, index, key
  event('call_escalated', 'call', sid, 'queue', queue, 'step', index, 'at', now)
  local next_in = next_step_in(queue, index, now - tonumber(call.enq))
  if next_in >= 0 then timer('esc|' .. sid, now + next_in) end
  return match_call(sid, call, now)
end

-- An offer the agent let go (no answer, busy, failed, or no word at all): the agent is held
-- back until they say they are there; the caller goes back to the very place they had and is
-- offered to the next agent. Returns that agent or nil.
local function miss_offer(sid, call, id, outcome, now)
  local agent = hgetall(agent_key(id))
  redis.call('HSET', agent_key(id), 'call', '')
  agent.call = ''
  set_agent_state(id, agent, 'missed', now, outcome)
  stats.missed(call, id, now)
  event('offer_missed', 'call', sid, 'agent', id, 'queue', call.queue, 'at', now)
  enqueue_waiting(sid, call, now)
  return match_call(sid, call, now)
end

-- Take back an offer through no fault of the agent's (the caller hung up, or could not be
-- called back): they are available again at their old place in the idle order. Returns a
-- waiting call given to them at once, or nil.
local function withdraw_offer(id, now, reason)
  local agent = hgetall(agent_key(id))
  agent.idle = agent.idle_before_offer or now
  redis.call('HSET', agent_key(id), 'call', '', 'idle', agent.idle)
  agent.call = ''
  set_agent_state(id, agent, 'available', now, reason)
  add_available(id, agent)
  return match_agent(id, agent, now)
end

-- The end of a talk: wrap-up, with its timer; no wrap-up at all goes straight back to work.
-- Returns a call the agent was given at once, or nil.
local function start_wrap_up(id, agent, now)
  set_agent_state(id, agent, 'wrap_up', now)
  if (cfg.wrap_up or 0) <= 0 then
    return become_available(id, agent, now)
  end
  timer('wrap|' .. id .. '|' .. NOW_S, now + cfg.wrap_up)
  return nil
end

-- 1-based place of a waiting call among the callers of its queue, and how many wait there.
local function place_in_queue(call)
  local ahead, total = 0, 0
  local langs = { '*' }
  for _, l in ipairs(cfg.languages) do langs[#langs + 1] = l end
  for index, _ in ipairs(QUEUES[call.queue].steps) do
    for _, l in ipairs(langs) do
      local key = P .. 'wait:' .. call.queue .. ':' .. index .. ':' .. l
      ahead = ahead + redis.call('ZCOUNT', key, '-inf', '(' .. call.score)
      total = total + redis.call('ZCARD', key)
    end
  end
  return ahead + 1, total
end
