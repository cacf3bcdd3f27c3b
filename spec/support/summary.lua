-- summary.lua: busted output handler for vnet's test command. One line per
-- test, failure details at the end, and a last line "N passed, N failed,
-- N skipped" that .ci/run and CI read. File-level errors count as failed.
return function(options)
  local busted = require 'busted'
  local handler = require 'busted.outputHandlers.base'()
  local out = io.stdout
  local pretty = require 'pl.pretty'

  local function name(element)
    return handler.getFullName(element)
  end

  handler.testEnd = function(element, parent, status, debug)
    local mark = status == 'success' and 'ok  ' or status == 'pending' and 'skip'
      or 'FAIL'
    out:write(mark, ' ', name(element))
    if status == 'pending' then
      local p = handler.pendings[#handler.pendings]
      if p and p.message and p.message ~= '' then
        out:write(' -- ', tostring(p.message))
      end
    end
    out:write('\n')
    out:flush()
    return nil, true
  end

  local function describe_failure(f)
    local msg = f.message
    if type(msg) ~= 'string' then msg = pretty.write(msg) end
    local where = f.trace and f.trace.short_src and
      (f.trace.short_src .. ':' .. tostring(f.trace.currentline)) or ''
    return string.format('%s\n  %s\n%s', f.name or '?', where, msg or '')
  end

  handler.suiteEnd = function()
    local problems = {}
    for _, f in ipairs(handler.failures) do problems[#problems + 1] = f end
    for _, e in ipairs(handler.errors) do problems[#problems + 1] = e end
    if #problems > 0 then
      out:write('\n---- failures and errors ----\n')
      for _, f in ipairs(problems) do
        out:write(describe_failure(f), '\n\n')
      end
    end
    local failed = handler.failuresCount + handler.errorsCount
    out:write(string.format('\n%d passed, %d failed, %d skipped\n',
      handler.successesCount, failed, handler.pendingsCount))
    out:flush()
    return nil, true
  end

  handler.error = function(element, parent, message, debug)
    out:write('ERROR ', tostring(message), '\n')
    return nil, true
  end

  busted.subscribe({ 'test', 'end' }, handler.testEnd, { predicate = handler.cancelOnPending })
  busted.subscribe({ 'suite', 'end' }, handler.suiteEnd)
  busted.subscribe({ 'error', 'file' }, handler.error)
  busted.subscribe({ 'failure', 'file' }, handler.error)
  busted.subscribe({ 'error', 'describe' }, handler.error)
  busted.subscribe({ 'failure', 'describe' }, handler.error)
  return handler
end
