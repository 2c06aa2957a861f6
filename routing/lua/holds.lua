-- Virtual hold: a waiting caller asks to be called back instead of holding on. Their entry
-- stays in the queue with its own arrival time and priority (vh = 1), no longer tied to a live
-- call; when matching gives it an agent, a job places the call (hold_dial), and on the
-- customer's answer the entry becomes that call (hold_answered). Runs after state.lua and
-- stats.lua, before operations.lua.

-- An attempt to call back that came to nothing (no answer, busy, failed, a machine, or no
-- word at all): the agent is free again through no fault of theirs; the caller goes back to
-- their own place after a short wait, or leaves the queue after the last attempt.
-- Returns 'retry' or 'failed', and a waiting call given to the freed agent at once, or nil.
local function hold_attempt_failed(sid, call, outcome, now)
  local tries = tonumber(call.vh_tries) or 0
  local final = tries >= (cfg.hold_attempts or 3)
  if final then
    redis.call('HSET', call_key(sid), 'state', 'gone', 'agent', '', 'ended_at', now,
      'vh_result', outcome)
    -- Offered and never served: an abandon with all its wait, so the queue's answered and
    -- abandoned calls still add up to its offered ones.
    stats.abandoned(call, now)
    event('hold_failed', 'call', sid, 'queue', call.queue, 'attempt', tries, 'result', outcome,
      'at', now)
  else
    redis.call('HSET', call_key(sid), 'state', 'retry', 'agent', '', 'vh_result', outcome)
    timer('vhr|' .. sid, now + (cfg.hold_retry or 60))
    event('hold_retry', 'call', sid, 'queue', call.queue, 'attempt', tries, 'result', outcome,
      'at', now)
  end
  local next_sid = nil
  if call.agent and call.agent ~= '' then
    next_sid = withdraw_offer(call.agent, now, 'callback_not_answered')
  end
  return final and 'failed' or 'retry', next_sid
end

local function offered_reply(call)
  return { 'offered', call.agent, call.queue, -1, contact_of(call.agent), call.offered_at or '' }
end

if op == 'hold' then
  -- now, sid, the number to call back: keep this waiting caller's place for a call back.
  local sid, phone = ARGV[3], ARGV[4]
  local call = hgetall(call_key(sid))
  if call == nil then return { 'unknown' } end
  if call.vh == '1' then return { 'held', call.state } end
  if call.state == 'offered' then return offered_reply(call) end
  if call.state ~= 'waiting' then return { call.state } end
  redis.call('HSET', call_key(sid), 'vh', '1', 'vh_phone', phone, 'vh_tries', 0,
    'held_at', NOW_S)
  event('call_held', 'call', sid, 'queue', call.queue, 'at', NOW)
  return { 'held', 'waiting' }
end

if op == 'hold_dial' then
  -- now, sid, agent id: the job's claim to place this offer's call, granted once per offer.
  local sid, id = ARGV[3], ARGV[4]
  local call = hgetall(call_key(sid))
  if call == nil or call.vh ~= '1' or call.state ~= 'offered' or call.agent ~= id
    or call.vh_dialed == call.offered_at then
    return { 'stale' }
  end
  local tries = (tonumber(call.vh_tries) or 0) + 1
  redis.call('HSET', call_key(sid), 'vh_dialed', call.offered_at, 'vh_tries', tries)
  event('hold_dialing', 'call', sid, 'agent', id, 'attempt', tries, 'at', NOW)
  return { 'dial', call.vh_phone or '', call.lang or '', tries, call.offered_at }
end

if op == 'hold_answered' then
  -- now, sid, agent id, offered_at, the CallSid of the call we placed: the customer picked
  -- up. From here the entry is that live call, offered to the agent it reserved.
  local sid, id, offered_at, new = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  local call = hgetall(call_key(sid))
  if call == nil then return { 'stale' } end
  if call.state == 'moved' and call.moved_to == new then
    local moved = hgetall(call_key(new))
    if moved and moved.state == 'offered' then return offered_reply(moved) end
    return { moved and moved.state or 'stale' }
  end
  if call.vh ~= '1' or call.state ~= 'offered' or call.agent ~= id
    or call.offered_at ~= offered_at then
    return { 'stale' }
  end
  redis.call('HSET', call_key(new), unpack(redis.call('HGETALL', call_key(sid))))
  -- Nothing of the first call's Twilio queue: this call has been in none yet.
  redis.call('HSET', call_key(new), 'vh', '0', 'held_for', sid, 'twilio_queue', '')
  redis.call('EXPIRE', call_key(new), TERMINAL_TTL)
  redis.call('HSET', call_key(sid), 'state', 'moved', 'moved_to', new, 'vh', '0')
  redis.call('HSET', agent_key(id), 'call', new)
  redis.call('ZREM', TIMERS, 'exp|' .. sid .. '|' .. offered_at, 'esc|' .. sid)
  timer('exp|' .. new .. '|' .. offered_at,
    NOW + (cfg.ring_timeout or 20) + (cfg.offer_grace or 30))
  event('hold_answered', 'call', sid, 'to', new, 'agent', id, 'queue', call.queue, 'at', NOW)
  call.agent = id
  return offered_reply(call)
end

if op == 'hold_result' then
  -- now, sid, offered_at, outcome: the attempt of that offer came to nothing.
  local sid, offered_at, outcome = ARGV[3], ARGV[4], ARGV[5]
  local call = hgetall(call_key(sid))
  if call == nil or call.vh ~= '1' or call.state ~= 'offered' or call.offered_at ~= offered_at then
    return { 'stale' }
  end
  local result, next_sid = hold_attempt_failed(sid, call, outcome, NOW)
  return { result, call.agent, next_sid or '', call.vh_tries or '0' }
end
