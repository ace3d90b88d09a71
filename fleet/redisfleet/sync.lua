-- One Proxy's sync: apply its report, return the fleet's view of its targets.
-- KEYS[1]: hash target name -> JSON {f: failures, fx: end of their window, o: held until,
--          l: latency EWMA (absent: no sample), u: usage, ut: when u was decayed to}
-- KEYS[2]: hash instance -> JSON {e: lease end, c: {target name: in-flight}}
-- ARGV: instance, lease ms, max fails, fail timeout ms, key TTL ms, JSON report
--       [{n: name, r: reset, f: failures, h: hold ms, c: in-flight, ls: latency sum, ln: samples, u: usage}]
-- Times are Redis's (TIME), in ms: no instance's clock is compared with another's.
-- Returns JSON [[hold ms, others' in-flight, latency or -1, usage], ...].
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local instance, lease, maxFails, window, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local reports = cjson.decode(ARGV[6])
local weight, decay = 0.25, 10000 -- aiproxy's ewmaWeight and usageDecay

-- In-flight: replace this instance's counts, sum the others' whose lease holds, drop the rest.
local mine, others = {}, {}
for _, r in ipairs(reports) do
	if r.c > 0 then mine[r.n] = r.c end
end
if next(mine) == nil then
	redis.call('HDEL', KEYS[2], instance)
else
	redis.call('HSET', KEYS[2], instance, cjson.encode({e = now + lease, c = mine}))
end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
	if all[i] ~= instance then
		local v = cjson.decode(all[i + 1])
		if v.e < now then
			redis.call('HDEL', KEYS[2], all[i])
		else
			for name, c in pairs(v.c) do others[name] = (others[name] or 0) + c end
		end
	end
end

local out = {}
for i, r in ipairs(reports) do
	local raw = redis.call('HGET', KEYS[1], r.n)
	local s
	if raw then s = cjson.decode(raw) else s = {f = 0, fx = 0, o = 0, u = 0, ut = now} end
	local changed = false
	if r.r or (s.f > 0 and s.fx < now) then -- a success, or the window passed: the count restarts
		if s.f > 0 then s.f = 0; changed = true end
	end
	if r.f > 0 and maxFails > 0 then
		if s.f == 0 then s.fx = now + window end
		s.f = s.f + r.f
		if s.f >= maxFails then
			s.f = 0
			s.o = math.max(s.o, now + window)
		end
		changed = true
	end
	if r.h > 0 and now + r.h > s.o then
		s.o = now + r.h
		changed = true
	end
	if r.ln > 0 then
		local mean = r.ls / r.ln
		if s.l then s.l = s.l + (1 - (1 - weight) ^ r.ln) * (mean - s.l) else s.l = mean end
		changed = true
	end
	local u = s.u * math.exp(-(now - s.ut) / decay)
	if r.u > 0 then
		s.u, s.ut = u + r.u, now
		changed = true
	end
	if changed then redis.call('HSET', KEYS[1], r.n, cjson.encode(s)) end
	out[i] = {math.max(0, s.o - now), others[r.n] or 0, s.l or -1, s.u * math.exp(-(now - s.ut) / decay)}
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return cjson.encode(out)
