"""The Lua scripts of the Redis store (see :mod:`hyperhive.storage.redis` for the layout).

Both scripts run atomically on the server. An append applies each event's
bookkeeping as :func:`hyperhive.trial.apply_event` would (the first ``end`` of a
trial wins); a claim creates a trial only while counted plus open trials stay
within the budget. Each answer is cached under the call's token key for a while,
so that a call retried after a lost reply is not applied twice.
"""

from __future__ import annotations

__all__ = ["APPEND", "BITMAP_IDS", "CLAIM", "PUSH"]

PUSH = 1000
"""Records per RPUSH inside a script (Lua's ``unpack`` has a stack limit)."""

BITMAP_IDS = 1 << 26
"""Trial ids below this are tracked in a bitmap (8 MiB at most); larger ones are not."""

# Shared Lua: apply one record's bookkeeping. ARGV layout per event: tid ('' for a
# fresh id), kind, aux1, aux2, text (a fresh submit's text lacks its "trial").
_APPLY = """
local function push(recs)
  local len = 0
  for i = 1, #recs, @PUSH@ do
    len = redis.call('RPUSH', KEYS[1], unpack(recs, i, math.min(i + @PUSH@ - 1, #recs)))
  end
  if #recs == 0 then len = redis.call('LLEN', KEYS[1]) end
  return len
end
local function fresh_text(tid, text)
  return '{"trial":' .. string.format('%d', tid) .. ',' .. string.sub(text, 2)
end
local function on_submit(tid, peer, retry_of)
  local seen = 0
  if tid < @BITS@ then seen = redis.call('SETBIT', KEYS[6], tid, 1) end
  if seen == 0 then redis.call('HSET', KEYS[3], tid, peer) end
  if retry_of ~= '' then redis.call('SREM', KEYS[5], retry_of) end
end
local function on_end(tid, flag)
  if redis.call('HDEL', KEYS[3], tid) == 1 then
    if flag == 'c' then redis.call('INCR', KEYS[4])
    elseif flag == 'l' then redis.call('SADD', KEYS[5], tid) end
  end
end
""".replace("@PUSH@", str(PUSH)).replace("@BITS@", str(BITMAP_IDS))

# KEYS: log next open counted orphans ids tok. ARGV: n, then 5 fields per event.
APPEND = (
    _APPLY
    + """
local cached = redis.call('GET', KEYS[7])
if cached then return cjson.decode(cached) end
local n = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
local ids, recs = {}, {}
for i = 1, n do
  local b = 1 + (i - 1) * 5
  local tid, kind, a1, a2, text = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  if tid == '' then
    tid = nxt
    text = fresh_text(tid, text)
  else
    tid = tonumber(tid)
  end
  if tid + 1 > nxt then nxt = tid + 1 end
  if kind == 'submit' then on_submit(tid, a1, a2) elseif kind == 'end' then on_end(tid, a1) end
  ids[i] = tid
  recs[i] = text
end
redis.call('SET', KEYS[2], string.format('%d', nxt))
local out = {push(recs), ids}
redis.call('SET', KEYS[7], cjson.encode(out), 'EX', tonumber(ARGV[#ARGV]))
return out
"""
)

# KEYS: log next open counted orphans ids tok. ARGV: budget ('' none), adopt ('' none),
# lost-end text (with its trial), submit text (fresh), peer, key prefix, token ttl.
CLAIM = (
    _APPLY
    + """
local cached = redis.call('GET', KEYS[7])
if cached then return cjson.decode(cached) end
local budget, adopt, lost, text, peer, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local recs = {}
local function answer(out)
  redis.call('SET', KEYS[7], cjson.encode(out), 'EX', tonumber(ARGV[7]))
  return out
end
if adopt ~= '' then
  if redis.call('SISMEMBER', KEYS[5], adopt) == 0 then
    local owner = redis.call('HGET', KEYS[3], adopt)
    if not owner then return answer({0, -1, 'gone'}) end
    if owner == '' or redis.call('EXISTS', prefix .. 'peer:' .. owner) == 1 then
      return answer({0, -1, 'alive'})
    end
    on_end(tonumber(adopt), 'l')
    recs[#recs + 1] = lost
  end
end
if budget ~= '' then
  local taken = tonumber(redis.call('GET', KEYS[4]) or '0') + redis.call('HLEN', KEYS[3])
  if taken >= tonumber(budget) then return answer({push(recs), -1, 'budget'}) end
end
local tid = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('SET', KEYS[2], string.format('%d', tid + 1))
on_submit(tid, peer, adopt)
recs[#recs + 1] = fresh_text(tid, text)
return answer({push(recs), tid, 'ok'})
"""
)
