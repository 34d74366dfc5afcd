-- POST /update-custom-amount, one request per shopper session, round robin.
--   wrk -t T ... -s update.lua http://127.0.0.1:PORT/update-custom-amount -- SESSIONS.lua T
-- SESSIONS.lua (written by the harness) returns { {"cs_...", "token" or nil}, ... }; with a
-- token the request carries `Authorization: Bearer <token>`. Thread i sends sessions i, i+T,
-- i+2T... so that no two requests in flight share a session while the list is longer than the
-- number of connections (per-session serialization in a server is not what is measured).

local source = debug.getinfo(1, "S").source
dofile((source:match("^@(.*/)") or "./") .. "report.lua")

local started = 0

function setup(thread)
  thread:set("offset", started)
  started = started + 1
end

local requests, count, index, stride = {}, 0, 0, 1

function init(args)
  local sessions = dofile(args[1])
  stride = tonumber(args[2]) or 1
  for i, session in ipairs(sessions) do
    local headers = { ["Content-Type"] = "application/json" }
    if session[2] then
      headers["Authorization"] = "Bearer " .. session[2]
    end
    local body = string.format(
      '{"checkout_session_id": "%s", "product_id": "gift_wrap"}', session[1])
    requests[i] = wrk.format("POST", nil, headers, body)
  end
  count = #requests
  index = offset or 0
end

function request()
  local r = requests[index % count + 1]
  index = index + stride
  return r
end
