-- Live figures, kept as events happen: every counter changes in the same script run as the
-- event it counts, so reading the figures costs the same with 10 or 50,000 calls.
--
-- Per queue and bank-local day, and per queue and UTC minute (rolling windows sum buckets):
--   {rt}:stats:day:<YYYYMMDD>:<queue>   {rt}:stats:min:<epoch minute>:<queue>
--   offered, answered, answered_in_sl, wait_answered, abandoned (short ones apart),
--   abandoned_after_sl, short_abandons, longest_wait, handled, talk, wrap_up, missed_offers
-- A call counts in the queue it entered (`sq` on the call), even after an overflow, so each
-- queue's answered and abandoned calls are among its offered ones.
-- Agents' time in the states occupancy needs, per day and minute (split at the boundaries):
--   {rt}:stats:occ:day:<YYYYMMDD>  {rt}:stats:occ:min:<epoch minute>   busy, wrap_up, available
-- Per agent and day: {rt}:stats:agent:<YYYYMMDD>:<id>   handled, talk, wrap_up, missed_offers
-- Real time: {rt}:agents:<state> (a set of agent ids per state) and {rt}:waiting:<queue>
-- (waiting calls of the queue they are in now, scored by arrival: the head is the longest wait).

local SL_SECONDS = cfg.service_level_seconds or 20
local SHORT_ABANDON_SECONDS = cfg.short_abandon_seconds or 5
-- Days stay a week for the history writer to catch up; minutes two hours for 60-minute windows.
local DAY_TTL = 8 * 86400
local MINUTE_TTL = 2 * 3600 + 300
local OCCUPANCY_FIELDS = { available = 'available', busy = 'busy', wrap_up = 'wrap_up' }

-- The bank's UTC offset at time t: cfg.utc_offsets is [[from, offset], ...] in rising order,
-- computed in Python from the time zone, so summer time needs nothing here.
local function utc_offset(t)
  local offset = 0
  for _, pair in ipairs(cfg.utc_offsets or {}) do
    if pair[1] <= t then offset = pair[2] else break end
  end
  return offset
end

-- YYYYMMDD of a count of days since 1970-01-01 (H. Hinnant's civil_from_days).
local function civil(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d%02d%02d', y, m, d)
end

-- The bank-local day of t (days since 1970-01-01) and the offset it was computed with.
local function local_day(t)
  local offset = utc_offset(t)
  return math.floor((t + offset) / 86400), offset
end

local function day_key(t) return civil((local_day(t))) end

-- Calls that arrived before the figures existed have no `sq`: their current queue stands in.
local function queue_of(call)
  if call.sq and call.sq ~= '' then return call.sq end
  return call.queue
end

-- Always HINCRBYFLOAT: a field that once took a fraction of a second refuses HINCRBY, and
-- whole numbers still read back as "3", not "3.0".
local function add(key, field, amount, ttl)
  redis.call('HINCRBYFLOAT', key, field, amount)
  redis.call('EXPIRE', key, ttl)
end

local function raise_to(key, field, value)
  local current = tonumber(redis.call('HGET', key, field) or '0')
  if value > current then redis.call('HSET', key, field, value) end
end

-- Add counts (field -> amount) to a queue's day and minute at time t; `longest` raises the
-- longest wait.
local function count(queue, t, counts, longest)
  local keys = {
    { P .. 'stats:day:' .. day_key(t) .. ':' .. queue, DAY_TTL },
    { P .. 'stats:min:' .. math.floor(t / 60) .. ':' .. queue, MINUTE_TTL },
  }
  for _, pair in ipairs(keys) do
    for field, amount in pairs(counts) do
      if amount ~= 0 then add(pair[1], field, amount, pair[2]) end
    end
    if longest then raise_to(pair[1], 'longest_wait', longest) end
  end
end

local function count_agent(id, t, counts)
  local key = P .. 'stats:agent:' .. day_key(t) .. ':' .. id
  for field, amount in pairs(counts) do
    if amount ~= 0 then add(key, field, amount, DAY_TTL) end
  end
end

-- Seconds an agent spent in a state, split over the days (the last two at most) and minutes
-- (the last hour) it spans, so windows and days get exactly their share.
local function add_state_time(field, from, to)
  local start = math.max(from, to - 2 * 86400)
  while start < to do
    local day, offset = local_day(start)
    local stop = math.min(to, (day + 1) * 86400 - offset)
    add(P .. 'stats:occ:day:' .. civil(day), field, stop - start, DAY_TTL)
    start = stop
  end
  start = math.max(from, (math.floor(to / 60) - 60) * 60)
  while start < to do
    local minute = math.floor(start / 60)
    local stop = math.min(to, (minute + 1) * 60)
    add(P .. 'stats:occ:min:' .. minute, field, stop - start, MINUTE_TTL)
    start = stop
  end
end

function stats.offered(call, t)
  count(queue_of(call), t, { offered = 1 })
end

function stats.answered(call, id, t)
  -- The agent's wrap-up after this call counts in the call's queue.
  redis.call('HSET', P .. 'agent:' .. id, 'sq', queue_of(call))
  local wait = t - tonumber(call.enq)
  count(queue_of(call), t, {
    answered = 1, wait_answered = wait, answered_in_sl = wait <= SL_SECONDS and 1 or 0,
  }, wait)
end

function stats.abandoned(call, t)
  local wait = t - tonumber(call.enq)
  if wait < SHORT_ABANDON_SECONDS then
    count(queue_of(call), t, { short_abandons = 1 }, wait)
  else
    local late = wait > SL_SECONDS and 1 or 0
    count(queue_of(call), t, { abandoned = 1, abandoned_after_sl = late }, wait)
  end
end

function stats.ended(call, id, talk, t)
  count(queue_of(call), t, { handled = 1, talk = talk })
  count_agent(id, t, { handled = 1, talk = talk })
end

function stats.missed(call, id, t)
  count(queue_of(call), t, { missed_offers = 1 })
  count_agent(id, t, { missed_offers = 1 })
end

-- On every state change (and every re-entry, which restarts `since`): the time spent in the
-- state left, the sets of agents per state, and wrap-up time for AHT when a wrap-up ends.
function stats.agent_state(id, agent, before, after, t)
  redis.call('SREM', P .. 'agents:' .. before, id)
  redis.call('SADD', P .. 'agents:' .. after, id)
  local since = tonumber(agent.since)
  if since == nil or t <= since then return end
  local field = OCCUPANCY_FIELDS[before]
  if field then add_state_time(field, since, t) end
  if before == 'wrap_up' and after ~= 'wrap_up' and (agent.sq or '') ~= '' then
    count(agent.sq, t, { wrap_up = t - since })
    count_agent(id, t, { wrap_up = t - since })
  end
end

function stats.waiting(queue, sid, enq)
  redis.call('ZADD', P .. 'waiting:' .. queue, enq, sid)
end

function stats.not_waiting(queue, sid)
  redis.call('ZREM', P .. 'waiting:' .. queue, sid)
end
