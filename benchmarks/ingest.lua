-- wrk script for the ingest benchmark: signed push deliveries with unique X-GitHub-Delivery ids.
--
-- wrk -t THREADS -s ingest.lua URL -- BODIES_FILE RUN_TAG THREADS
-- BODIES_FILE holds one delivery per line: "<X-Hub-Signature-256>\t<JSON body>", each body with
-- new commit shas (precomputed in Python: wrk's Lua has no HMAC). Thread i of n takes lines
-- i, i+n, i+2n, …; when a thread has used all of its lines it starts again from its first
-- (the delivery id stays unique, the commits are then already known) and counts the wrap.
-- Each response that is not 202 is counted; done() prints the counts for the Python side.

local threads = {}

function setup(thread)
   thread:set("first", #threads)
   table.insert(threads, thread)
end

function init(args)
   -- a thread's init may run before the next thread's setup: the count comes as an argument
   local path, tag, total_threads = args[1], args[2], tonumber(args[3])
   signatures, bodies, count, index, sent = {}, {}, 0, 0, 0
   not_202, wraps = 0, 0
   prefix = tag .. "-" .. first .. "-"
   local line_number = 0
   for line in io.lines(path) do
      if line_number % total_threads == first then
         local signature, body = line:match("^([^\t]+)\t(.*)$")
         count = count + 1
         signatures[count], bodies[count] = signature, body
      end
      line_number = line_number + 1
   end
end

function request()
   index = index + 1
   if index > count then
      index, wraps = 1, wraps + 1
   end
   sent = sent + 1
   local headers = {
      ["Content-Type"] = "application/json",
      ["User-Agent"] = "GitHub-Hookshot/wrk",
      ["X-GitHub-Event"] = "push",
      ["X-GitHub-Delivery"] = prefix .. sent,
      ["X-Hub-Signature-256"] = signatures[index],
   }
   return wrk.format("POST", "/webhooks/github", headers, bodies[index])
end

function response(status, headers, body)
   if status ~= 202 then
      not_202 = not_202 + 1
   end
end

function done(summary, latency, requests)
   local total_not_202, total_wraps, total_lines = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_not_202 = total_not_202 + thread:get("not_202")
      total_wraps = total_wraps + thread:get("wraps")
      total_lines = total_lines + thread:get("count")
   end
   io.write(string.format("bench not_202=%d wraps=%d bodies=%d\n",
      total_not_202, total_wraps, total_lines))
end
