-- retrykit fleet: one atomic step on one scope's shared state, timed by Redis's own clock
-- (TIME), so members on machines whose clocks disagree still agree on every instant.
--
-- KEYS[1] cooldown: the instant (Redis time, seconds) the scope reopens after a server's wait
-- KEYS[2] pace:     the GCRA theoretical arrival time of the next request
-- KEYS[3] budget:   gRFC A6 tokens (absent = a full bucket)
--
-- ARGV[1] op:          "fail" (a failed attempt) or "pace" (reserve a send slot)
-- ARGV[2] wait:        fail: seconds the server asked to wait (0: none); pace: requests per second
-- ARGV[3] charge|burst fail: "1" to take a budget token; pace: the burst (requests at once)
-- ARGV[4] credit:      budget tokens earned by successes since this member last wrote (>= 0)
-- ARGV[5] max_tokens:  the budget's size (0: no budget)
-- ARGV[6] ttl:         seconds an idle budget key lives (then it is full again)
-- ARGV[7] channel:     where a newly closed cooldown is published ("<cooldown key> <seconds>")
--
-- Returns {pace wait or "0", cooldown remaining, allowed (1/0), tokens} as strings of seconds:
-- every value is relative to now, so no member ever compares its clock with Redis's.

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local op = ARGV[1]
local max_tokens = tonumber(ARGV[5])

local reopen = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if op == 'fail' then
  local wait = tonumber(ARGV[2]) or 0
  if wait > 0 and now + wait > reopen then
    reopen = now + wait
    redis.call('SET', KEYS[1], string.format('%.6f', reopen), 'PX', math.ceil(wait * 1000) + 1000)
    -- Tell every member at once (they listen on ARGV[7]): no member pays a round trip to learn it.
    redis.call('PUBLISH', ARGV[7], KEYS[1] .. ' ' .. string.format('%.6f', wait))
  end
end

-- The budget: successes' credit first (up to the cap), then this failure's token.
local allowed = 1
local tokens = max_tokens
if max_tokens > 0 then
  tokens = tonumber(redis.call('GET', KEYS[3]) or ARGV[5]) or max_tokens
  tokens = math.min(max_tokens, tokens + (tonumber(ARGV[4]) or 0))
  if op == 'fail' and ARGV[3] == '1' then
    tokens = math.max(0, tokens - 1)
    if tokens <= max_tokens / 2 then allowed = 0 end
  end
  if tokens >= max_tokens then
    redis.call('DEL', KEYS[3])  -- a full bucket is the absent key: nothing lingers
  else
    redis.call('SET', KEYS[3], string.format('%.17g', tokens), 'EX', tonumber(ARGV[6]))
  end
end

-- Pacing by GCRA: each send pushes the theoretical arrival time one interval further;
-- a send may go once it is at most `burst` intervals ahead of now. Reserving the slot and
-- answering how long to wait for it are one step, so no two members take the same slot.
local pace = 0
if op == 'pace' and reopen <= now then  -- while closed, no slot is taken: the member waits, then asks again
  local interval = 1 / tonumber(ARGV[2])
  local burst = tonumber(ARGV[3])
  local tat = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  if tat < now then tat = now end
  tat = tat + interval
  pace = tat - burst * interval - now
  if pace < 0 then pace = 0 end
  redis.call('SET', KEYS[2], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
end

local remaining = reopen - now
if remaining < 0 then remaining = 0 end
return {string.format('%.6f', pace), string.format('%.6f', remaining), allowed, string.format('%.17g', tokens)}
