-- The router's operations, one per ARGV[1]; runs after state.lua in the same script, which
-- defines the keys, the helpers and NOW.

-- Operations -------------------------------------------------------------------------------


if op == 'arrive' then
  -- now, sid, home queue, language, priority, enqueue time, credit, sticky agent
  local sid, home, lang, now = ARGV[3], ARGV[4], ARGV[5], NOW
  local priority, enq, credit = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
  local sticky = ARGV[9]
  if QUEUES[home] == nil then return redis.error_reply('unknown queue ' .. home) end
  local existing = hgetall(call_key(sid))
  if existing and existing.state ~= 'gone' then
    -- A repeated arrival: tell the caller where they already are.
    local agent = existing.agent or ''
    return { existing.state, agent, existing.queue or home, -1,
      agent ~= '' and contact_of(agent) or '', existing.offered_at or '' }
  end
  local call = { home = home, lang = lang, score = enq - credit, enq = enq, priority = priority }
  redis.call('HSET', call_key(sid), 'home', home, 'lang', lang, 'score', call.score,
    'enq', enq, 'priority', priority, 'state', 'new')
  redis.call('EXPIRE', call_key(sid), TERMINAL_TTL)
  local queue, index = place_for(home, now - enq)
  -- `sq`: the queue the call counts in for the figures, wherever it goes later.
  call.queue, call.step, call.sq = queue, index, queue
  redis.call('HSET', call_key(sid), 'queue', queue, 'step', index, 'sq', queue)
  stats.offered(call, now)
  event('call_queued', 'call', sid, 'queue', queue, 'priority', priority, 'lang', lang, 'at', now)
  if sticky ~= '' then
    local agent = hgetall(agent_key(sticky))
    if agent and agent.state == 'available' then
      local skills = cjson.decode(agent.skills or '{}')
      if skills[QUEUES[queue].skill] then
        reserve(sid, call, sticky, now)
        return { 'offered', sticky, queue, -1, contact_of(sticky), NOW_S }
      end
    end
  end
  local agent = match_call(sid, call, now)
  if agent then return { 'offered', agent, queue, -1, contact_of(agent), NOW_S } end
  enqueue_waiting(sid, call, now)
  return { 'waiting', '', queue, next_step_in(queue, index, now - enq) }
end

if op == 'escalate' then
  local sid, now = ARGV[3], NOW
  local call = hgetall(call_key(sid))
  if call == nil or call.state ~= 'waiting' then return { 'not_waiting', '', '', -1 } end
  local agent = advance_step(sid, call, now)
  if agent then return { 'offered', agent, call.queue, -1, contact_of(agent), NOW_S } end
  local waited = now - tonumber(call.enq)
  return { 'waiting', '', call.queue, next_step_in(call.queue, tonumber(call.step), waited) }
end

if op == 'agent_ready' then
  -- now, id, skills json, languages json, calls today, contact (client:agent_7 / number:+86…),
  -- actor
  local id, now = ARGV[3], NOW
  ACTOR = ARGV[8] or ''
  local agent = hgetall(agent_key(id)) or { state = 'offline' }
  if agent.state == 'reserved' or agent.state == 'busy' then
    return { 'refused', agent.state }
  end
  if agent.state == 'available' then remove_available(id, agent) end
  redis.call('HSET', agent_key(id), 'skills', ARGV[4], 'langs', ARGV[5], 'calls', ARGV[6],
    'contact', ARGV[7])
  agent.skills, agent.langs, agent.calls = ARGV[4], ARGV[5], ARGV[6]
  local sid = become_available(id, agent, now)
  if sid then return { 'offered', sid } end
  return { 'available', '' }
end

if op == 'agent_away' then
  -- now, id, state (break/offline), reason, actor
  local id, state, reason, now = ARGV[3], ARGV[4], ARGV[5], NOW
  ACTOR = ARGV[6] or ''
  local agent = hgetall(agent_key(id)) or { state = 'offline' }
  if agent.state == 'reserved' or agent.state == 'busy' then
    return { 'refused', agent.state }
  end
  if agent.state == 'available' then remove_available(id, agent) end
  set_agent_state(id, agent, state, now, reason)
  return { state, '' }
end

if op == 'offer_result' then
  -- now, sid, agent id, outcome (answered / no-answer / busy / failed / ...)
  local sid, id, outcome, now = ARGV[3], ARGV[4], ARGV[5], NOW
  local call = hgetall(call_key(sid))
  if call == nil or call.state ~= 'offered' or call.agent ~= id then
    return { 'stale', '' }
  end
  local agent = hgetall(agent_key(id))
  if outcome == 'answered' then
    redis.call('HSET', call_key(sid), 'state', 'connected', 'answered_at', now)
    redis.call('HINCRBY', agent_key(id), 'calls', 1)
    set_agent_state(id, agent, 'busy', now)
    stats.answered(call, id, now)
    event('call_answered', 'call', sid, 'agent', id, 'queue', call.queue,
      'wait', now - tonumber(call.enq), 'at', now)
    return { 'connected', id }
  end
  local next_agent = miss_offer(sid, call, id, outcome, now)
  if next_agent then return { 'offered', next_agent, call.queue, -1, contact_of(next_agent), NOW_S } end
  return { 'waiting', '', call.queue, next_step_in(call.queue, tonumber(call.step), now - tonumber(call.enq)) }
end

if op == 'call_gone' then
  -- now, sid: the caller hung up (or the call failed) wherever it was.
  local sid, now = ARGV[3], NOW
  local call = hgetall(call_key(sid))
  if call == nil or call.state == 'gone' or call.state == 'ended' or call.state == 'moved' then
    return { 'gone', '', '' }
  end
  -- A caller who chose to be called back keeps their place: their hanging up is expected.
  if call.vh == '1' then return { 'held', '', '' } end
  redis.call('HSET', call_key(sid), 'state', 'gone', 'ended_at', now)
  redis.call('EXPIRE', call_key(sid), TERMINAL_TTL)
  if call.state == 'waiting' then
    redis.call('ZREM', call.wait_key, sid)
    stats.not_waiting(call.queue, sid)
    stats.abandoned(call, now)
    event('call_abandoned', 'call', sid, 'queue', call.queue, 'wait', now - tonumber(call.enq), 'at', now)
    return { 'abandoned', '', '' }
  end
  if call.state == 'offered' then
    -- Withdraw the offer: the agent did nothing wrong and keeps their place in the idle order.
    local id = call.agent
    stats.abandoned(call, now)
    event('call_abandoned', 'call', sid, 'queue', call.queue, 'wait', now - tonumber(call.enq),
      'at', now, 'agent', id)
    local next_sid = withdraw_offer(id, now, 'caller_hung_up')
    return { 'withdrawn', id, next_sid or '' }
  end
  if call.state == 'connected' then
    local id = call.agent
    local agent = hgetall(agent_key(id))
    redis.call('HSET', call_key(sid), 'state', 'ended')
    stats.ended(call, id, now - tonumber(call.answered_at), now)
    event('call_ended', 'call', sid, 'agent', id, 'queue', call.queue,
      'talk', now - tonumber(call.answered_at), 'at', now)
    local next_sid = start_wrap_up(id, agent, now)
    return { 'wrap_up', id, NOW_S, next_sid or '' }
  end
  return { 'gone', '', '' }
end

if op == 'move' then
  -- now, sid, new home queue ('' keeps it), new priority ('' keeps it), that priority's credit:
  -- a supervisor moves a waiting caller or raises their priority; the arrival time (their
  -- wait) is kept, so they lose nothing by being moved.
  local sid, home, priority, credit = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  local call = hgetall(call_key(sid))
  if call == nil or call.state ~= 'waiting' then return { 'not_waiting', '', '', -1 } end
  if home ~= '' and QUEUES[home] == nil then return redis.error_reply('unknown queue ' .. home) end
  redis.call('ZREM', call.wait_key, sid)
  stats.not_waiting(call.queue, sid)
  if home ~= '' then call.home = home end
  if priority ~= '' then
    call.priority = priority
    call.score = tonumber(call.enq) - tonumber(credit)
  end
  redis.call('HSET', call_key(sid), 'home', call.home, 'priority', call.priority,
    'score', call.score)
  event('call_moved', 'call', sid, 'queue', call.home, 'priority', call.priority, 'at', NOW)
  enqueue_waiting(sid, call, NOW)
  local agent = match_call(sid, call, NOW)
  if agent then return { 'offered', agent, call.queue, -1, contact_of(agent), NOW_S } end
  return { 'waiting', '', call.queue,
    next_step_in(call.queue, tonumber(call.step), NOW - tonumber(call.enq)) }
end

if op == 'tick' then
  -- now: fire the timers that are due. Returns how many fired, then (call, agent) pairs for
  -- offers made to callers who wait in a Twilio queue and must be pushed out to their agent.
  local due = redis.call('ZRANGEBYSCORE', TIMERS, '-inf', NOW, 'LIMIT', 0, 200)
  local reply = { #due }
  for _, member in ipairs(due) do
    redis.call('ZREM', TIMERS, member)
    local kind, a, b = string.match(member, '^(%a+)|([^|]+)|?(.*)$')
    if kind == 'esc' then
      local call = hgetall(call_key(a))
      if call and call.state == 'waiting' then
        local agent = advance_step(a, call, NOW)
        if agent then reply[#reply + 1] = a; reply[#reply + 1] = agent end
      end
    elseif kind == 'exp' then
      local call = hgetall(call_key(a))
      if call and call.state == 'offered' and call.offered_at == b and call.vh == '1' then
        -- A call-back attempt nobody reported on (its job or its call was lost).
        local _, next_sid = hold_attempt_failed(a, call, 'no_report', NOW)
        if next_sid then reply[#reply + 1] = next_sid; reply[#reply + 1] = call.agent end
      elseif call and call.state == 'offered' and call.offered_at == b then
        local agent = miss_offer(a, call, call.agent, 'no_report', NOW)
        if agent then reply[#reply + 1] = a; reply[#reply + 1] = agent end
      end
    elseif kind == 'vhr' then
      -- A caller to call back again, after the back-off: back at their own place.
      local call = hgetall(call_key(a))
      if call and call.state == 'retry' then
        enqueue_waiting(a, call, NOW)
        local agent = match_call(a, call, NOW)
        if agent then reply[#reply + 1] = a; reply[#reply + 1] = agent end
      end
    elseif kind == 'wrap' then
      local agent = hgetall(agent_key(a))
      if agent and agent.state == 'wrap_up' and agent.since == b then
        local sid = become_available(a, agent, NOW)
        if sid then reply[#reply + 1] = sid; reply[#reply + 1] = a end
      end
    end
  end
  return reply
end

if op == 'wrap_up_done' then
  -- now, id, the `since` of the wrap-up this timer belongs to
  local id, since, now = ARGV[3], ARGV[4], NOW
  local agent = hgetall(agent_key(id))
  if agent == nil or agent.state ~= 'wrap_up' or agent.since ~= since then
    return { 'stale', '' }
  end
  local sid = become_available(id, agent, now)
  if sid then return { 'offered', sid } end
  return { 'available', '' }
end

if op == 'wait' then
  -- now, sid, Twilio queue sid: the wait loop's one question. Remembers which Twilio queue
  -- holds the caller (for the REST push), lets a due escalation step happen, and says where
  -- the caller stands: {'offered', agent, queue, -1, contact} or {'waiting', place, total}.
  local sid, qsid, now = ARGV[3], ARGV[4], NOW
  local call = hgetall(call_key(sid))
  if call == nil then return { 'unknown' } end
  if call.vh == '1' then return { 'held' } end
  if qsid ~= '' and (call.twilio_queue or '') == '' then
    redis.call('HSET', call_key(sid), 'twilio_queue', qsid)
  end
  if call.state == 'offered' then
    return { 'offered', call.agent, call.queue, -1, contact_of(call.agent), call.offered_at or '' }
  end
  if call.state ~= 'waiting' then return { call.state } end
  local agent = advance_step(sid, call, now)
  if agent then return { 'offered', agent, call.queue, -1, contact_of(agent), NOW_S } end
  local place, total = place_in_queue(call)
  return { 'waiting', place, total, math.floor(now - tonumber(call.enq)) }
end

return redis.error_reply('unknown router operation ' .. tostring(op))
