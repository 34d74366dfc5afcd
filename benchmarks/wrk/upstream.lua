-- The Stripe stand-in alone: the GET or the POST a server sends for one update.
--   wrk ... -s upstream.lua http://127.0.0.1:PORT/v1/checkout/sessions/cs_test_bench_000000 -- GET|POST

local source = debug.getinfo(1, "S").source
dofile((source:match("^@(.*/)") or "./") .. "report.lua")

-- What the service posts to add one line item to a three-item session (form-encoded).
local UPDATE_FORM = table.concat({
  "line_items[0][id]=li_1QbenchLine0000000001",
  "line_items[1][id]=li_1QbenchLine0000000002",
  "line_items[2][id]=li_1QbenchLine0000000003",
  "line_items[3][price_data][currency]=usd",
  "line_items[3][price_data][product_data][name]=Gift+Wrap",
  "line_items[3][price_data][unit_amount]=500",
  "line_items[3][quantity]=1",
  "line_items[3][metadata][product_id]=gift_wrap",
  "metadata[amount_updater_rev]=1",
}, "&")

local req

function init(args)
  local headers = { ["Authorization"] = "Bearer sk_test_bench" }
  if args[1] == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = wrk.format("POST", nil, headers, UPDATE_FORM)
  else
    req = wrk.format("GET", wrk.path .. "?expand[0]=line_items", headers)
  end
end

function request()
  return req
end
