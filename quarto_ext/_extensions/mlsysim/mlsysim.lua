--[[
mlsysim.lua: reads the invariants report that `mlsysim check` writes to
<project>/.invariants/report.json, and for the chapter being rendered:

  1. fails the render with `error(...)` when the chapter has a failed check, a shifted
     published number or an execution error (the pre-render hook would have stopped the
     build; reaching this filter means it did not run, e.g. under `quarto preview`);
  2. in review builds (metadata `mlsysim: {review: true}`, document `draft: true`, or the
     environment variable MLSYSIM_REVIEW=1) does not fail, but wraps every published inline
     value in a Span `.mlsysim-value` with `data-status` (ok, shifted, ...) and puts a
     `callout-warning` at the top of the chapter listing what is broken;
  3. when there is no report, does nothing and says so once.

Pandoc 3 Lua API only; every use of Quarto's `quarto` table is guarded, so the filter also
runs under plain pandoc (the tests run it that way, and with a stand-in `quarto` table).
Report schema: "mlsysim-invariants-report" version 1 (see quarto_ext/README.md).
]]

local REPORT_SCHEMA = "mlsysim-invariants-report"
local REPORT_VERSION = 1
local DEFAULT_REPORT = ".invariants/report.json"

-- Golden statuses that break the build, and the ones that only fail under --strict.
local BROKEN_GOLDEN = { shifted = true, out_of_tolerance = true, unit_error = true }
local STRICT_GOLDEN = { new = true, missing = true }

------------------------------------------------------------------------------------------
-- Quarto, when present (each access guarded)
------------------------------------------------------------------------------------------

local function quarto_field(...)
  if type(quarto) ~= "table" then
    return nil
  end
  local value = quarto
  for _, key in ipairs({ ... }) do
    if type(value) ~= "table" then
      return nil
    end
    value = value[key]
  end
  return value
end

local said = {}

--- Say `message` once per render: Quarto's logger when present, else stderr.
local function warn_once(message)
  if said[message] then
    return
  end
  said[message] = true
  local quarto_warning = quarto_field("log", "warning")
  if type(quarto_warning) == "function" then
    quarto_warning(message)
  else
    io.stderr:write("[mlsysim] WARNING: " .. message .. "\n")
  end
end

------------------------------------------------------------------------------------------
-- Small helpers
------------------------------------------------------------------------------------------

local function posix(path)
  return (path:gsub("\\", "/"))
end

--- A JSON value that is neither null nor missing.
local function present(value)
  if value == nil then
    return false
  end
  if pandoc.json and value == pandoc.json.null then
    return false
  end
  return type(value) ~= "userdata"
end

local function text_or_nil(value)
  if type(value) == "number" and value == math.floor(value) then
    return string.format("%d", value) -- JSON numbers decode as floats: line 12, not 12.0
  end
  if present(value) and (type(value) == "string" or type(value) == "number") then
    return tostring(value)
  end
  return nil
end

local function truthy(value)
  if value == nil then
    return false
  end
  if type(value) == "boolean" then
    return value
  end
  local text = type(value) == "string" and value or pandoc.utils.stringify(value)
  text = text:lower()
  return text == "true" or text == "yes" or text == "1" or text == "on"
end

local function meta_option(meta, key)
  local block = meta.mlsysim
  if type(block) == "table" and block[key] ~= nil then
    return block[key]
  end
  return nil
end

local function decode_json(text)
  if pandoc.json and pandoc.json.decode then
    return pandoc.json.decode(text, false)
  end
  local quarto_decode = quarto_field("json", "decode")
  if type(quarto_decode) == "function" then
    return quarto_decode(text)
  end
  error("mlsysim: this pandoc has no JSON decoder (pandoc >= 3.1.1 needed)", 0)
end

------------------------------------------------------------------------------------------
-- Where things are
------------------------------------------------------------------------------------------

local function project_directory()
  local dir = quarto_field("project", "directory")
  if type(dir) == "string" and dir ~= "" then
    return dir
  end
  for _, name in ipairs({ "QUARTO_PROJECT_DIR", "QUARTO_PROJECT_ROOT" }) do
    local value = os.getenv(name)
    if value and value ~= "" then
      return value
    end
  end
  return pandoc.system.get_working_directory()
end

local function absolute(path)
  if pandoc.path.is_absolute(path) then
    return pandoc.path.normalize(path)
  end
  return pandoc.path.normalize(pandoc.path.join({ pandoc.system.get_working_directory(), path }))
end

local function report_path(meta, project_dir)
  local configured = meta_option(meta, "report")
  if configured ~= nil then
    local path = pandoc.utils.stringify(configured)
    if pandoc.path.is_absolute(path) then
      return path
    end
    return pandoc.path.join({ project_dir, path })
  end
  return pandoc.path.join({ project_dir, DEFAULT_REPORT })
end

--- This document's chapter path relative to the project directory, POSIX separators.
local function chapter_path(meta, project_dir)
  local configured = meta_option(meta, "chapter")
  if configured ~= nil then
    return posix(pandoc.utils.stringify(configured))
  end
  local input = quarto_field("doc", "input_file")
  if type(input) ~= "string" or input == "" then
    input = PANDOC_STATE.input_files[1]
  end
  if input == nil or input == "" or input == "-" then
    return nil
  end
  return posix(pandoc.path.make_relative(absolute(input), absolute(project_dir)))
end

------------------------------------------------------------------------------------------
-- The report
------------------------------------------------------------------------------------------

--- The decoded report, or nil (and a warning said once) when it is absent or unreadable.
local function read_report(path)
  local handle = io.open(path, "r")
  if handle == nil then
    warn_once("no invariants report at " .. path .. "; run `mlsysim check` (the pre-render "
      .. "hook does) to have chapters checked. Rendering without it.")
    return nil
  end
  local text = handle:read("a")
  handle:close()
  local ok, report = pcall(decode_json, text)
  if not ok or type(report) ~= "table" then
    warn_once("the invariants report " .. path .. " is not valid JSON; ignoring it.")
    return nil
  end
  if report.schema ~= REPORT_SCHEMA or report.version ~= REPORT_VERSION then
    warn_once("the invariants report " .. path .. " is not a " .. REPORT_SCHEMA .. " version "
      .. REPORT_VERSION .. " report; ignoring it.")
    return nil
  end
  return report
end

local function without_extension(path)
  return (path:gsub("%.[^./]*$", ""))
end

local function find_chapter(report, path)
  if type(report.chapters) ~= "table" or path == nil then
    return nil
  end
  for _, chapter in ipairs(report.chapters) do
    if chapter.path == path then
      return chapter
    end
  end
  -- The same chapter seen through another extension (e.g. an executed `.md` or `.ipynb`).
  local stem = without_extension(path)
  for _, chapter in ipairs(report.chapters) do
    if type(chapter.path) == "string" and without_extension(chapter.path) == stem then
      return chapter
    end
  end
  return nil
end

local function where(path, line)
  local number = text_or_nil(line)
  if number then
    return path .. ":" .. number
  end
  return path
end

local function sorted_keys(tbl)
  local keys = {}
  for key in pairs(tbl) do
    keys[#keys + 1] = key
  end
  table.sort(keys)
  return keys
end

local function describe_check(path, check)
  local text = where(path, check.line) .. ": " .. (text_or_nil(check.message) or "check failed")
  if type(check.values) == "table" then
    local shown = {}
    for _, label in ipairs(sorted_keys(check.values)) do
      local value = check.values[label]
      local value_text = type(value) == "table" and text_or_nil(value.text)
      if value_text then
        shown[#shown + 1] = label .. " = " .. value_text
      end
    end
    if #shown > 0 then
      text = text .. " (" .. table.concat(shown, ", ") .. ")"
    end
  end
  return text
end

local function describe_golden(path, golden)
  local key = text_or_nil(golden.key) or "?"
  local status = text_or_nil(golden.status) or "?"
  local message = text_or_nil(golden.message)
  if message == nil or message == "" then
    message = (status:gsub("_", " "))
  end
  -- The checker's messages usually say "old → new" already; add it when they do not.
  local old, new = text_or_nil(golden.old), text_or_nil(golden.new)
  local change = ""
  if not message:find("→", 1, true) then
    if old and new then
      change = " (" .. old .. " → " .. new .. ")"
    elseif new then
      change = " (new value " .. new .. ")"
    elseif old then
      change = " (was " .. old .. ")"
    end
  end
  return where(path, golden.line) .. ": " .. key .. ": " .. message .. change
end

local function describe_error(path, err)
  local kind = text_or_nil(err.kind) or "error"
  local cell = text_or_nil(err.cell)
  local head = where(path, err.line) .. ": " .. kind
  if cell then
    head = head .. " in cell " .. cell
  end
  local text = head .. ": " .. (text_or_nil(err.message) or "")
  if type(err.follows) == "number" then  -- a NameError after an earlier failed cell
    text = text .. " (follow-on of line " .. string.format("%d", err.follows) .. ")"
  end
  return text
end

--- One `path:line: message` line per failed check, broken golden and error of the chapter.
local function broken_items(chapter)
  local path = chapter.path
  local items = {}
  for _, check in ipairs(type(chapter.checks) == "table" and chapter.checks or {}) do
    if check.passed == false then
      items[#items + 1] = describe_check(path, check)
    end
  end
  for _, golden in ipairs(type(chapter.golden) == "table" and chapter.golden or {}) do
    if BROKEN_GOLDEN[golden.status] or STRICT_GOLDEN[golden.status] then
      items[#items + 1] = describe_golden(path, golden)
    end
  end
  for _, err in ipairs(type(chapter.errors) == "table" and chapter.errors or {}) do
    items[#items + 1] = describe_error(path, err)
  end
  return items
end

local function chapter_failed(chapter)
  return chapter.status == "failed" or chapter.status == "error"
end

local function failure_message(chapter, items)
  local lines = {
    "mlsysim: " .. chapter.path .. " breaks its invariants (status " .. chapter.status
      .. "), and the pre-render check did not stop this build:",
  }
  for _, item in ipairs(items) do
    lines[#lines + 1] = "  " .. item
  end
  lines[#lines + 1] = "Run `mlsysim check " .. chapter.path .. "` for details; if a change is "
    .. "intended, `mlsysim check --update` records it."
  return table.concat(lines, "\n")
end

------------------------------------------------------------------------------------------
-- Review builds: spans around published values, a callout of what is broken
------------------------------------------------------------------------------------------

local function review_build(meta)
  return truthy(os.getenv("MLSYSIM_REVIEW"))
    or truthy(meta_option(meta, "review"))
    or truthy(meta.draft)
end

--- Published texts of the chapter's inline values -> {status, key, old, new}.
local function value_targets(chapter)
  local targets, order = {}, {}
  local function add(text, golden)
    if text and text ~= "" and targets[text] == nil then
      targets[text] = golden
      order[#order + 1] = text
    end
  end
  local inline = {}
  for _, golden in ipairs(type(chapter.golden) == "table" and chapter.golden or {}) do
    if golden.kind == "inline" and text_or_nil(golden.status) then
      inline[#inline + 1] = golden
    end
  end
  -- What the document shows now (new) wins over what it showed before (old).
  for _, golden in ipairs(inline) do
    add(text_or_nil(golden.new), golden)
  end
  for _, golden in ipairs(inline) do
    add(text_or_nil(golden.old), golden)
  end
  -- Longest first, so "1.5 TB/s" is preferred over "1.5".
  table.sort(order, function(a, b)
    if #a ~= #b then
      return #a > #b
    end
    return a < b
  end)
  return targets, order
end

local function value_attr(golden)
  local attributes = {
    { "data-status", golden.status },
    { "data-key", text_or_nil(golden.key) or "" },
  }
  local old, new = text_or_nil(golden.old), text_or_nil(golden.new)
  if old and new and old ~= new then
    attributes[#attributes + 1] = { "title", "mlsysim: " .. golden.status .. ", was " .. old
      .. ", now " .. new }
  end
  return pandoc.Attr("", { "mlsysim-value" }, attributes)
end

--- A match may not start or end inside a word or a number ("8" is not found in "28" or "8.5").
local function on_boundaries(text, first, last)
  local before = first > 1 and text:sub(first - 1, first - 1) or ""
  local after = text:sub(last + 1, last + 1)
  if before:match("%w") or after:match("%w") then
    return false
  end
  if before:match("[%.,]") and text:sub(first - 2, first - 2):match("%d") then
    return false
  end
  if after:match("[%.,]") and text:sub(last + 2, last + 2):match("%d") then
    return false
  end
  return true
end

--- Non-overlapping {first, last, golden} matches of the targets in `text`, in text order.
local function find_values(text, targets, order)
  local matches = {}
  local function overlaps(first, last)
    for _, m in ipairs(matches) do
      if first <= m[2] and last >= m[1] then
        return true
      end
    end
    return false
  end
  for _, target in ipairs(order) do
    local start = 1
    while true do
      local first, last = text:find(target, start, true)
      if first == nil then
        break
      end
      if on_boundaries(text, first, last) and not overlaps(first, last) then
        matches[#matches + 1] = { first, last, targets[target] }
      end
      start = first + 1
    end
  end
  table.sort(matches, function(a, b)
    return a[1] < b[1]
  end)
  return matches
end

local TEXTUAL = { Str = true, Space = true, SoftBreak = true }

--- Rebuild one run of Str/Space/SoftBreak inlines with the matched stretches in Spans.
--- Unmatched inlines are kept as they were; a Str cut by a match boundary is split.
local function wrap_run(run, targets, order, out)
  local pieces, parts, length = {}, {}, 0
  for _, el in ipairs(run) do
    local text = el.t == "Str" and el.text or " "
    pieces[#pieces + 1] = { el = el, first = length + 1, last = length + #text, text = text }
    parts[#parts + 1] = text
    length = length + #text
  end
  local matches = find_values(table.concat(parts), targets, order)
  if #matches == 0 then
    for _, el in ipairs(run) do
      out:insert(el)
    end
    return
  end
  local spans = {}
  local function match_at(position)
    for index, m in ipairs(matches) do
      if position >= m[1] and position <= m[2] then
        return index
      end
    end
    return nil
  end
  for _, piece in ipairs(pieces) do
    -- cut the piece where a match starts or ends inside it
    local cuts = { piece.first }
    for _, m in ipairs(matches) do
      if m[1] > piece.first and m[1] <= piece.last then
        cuts[#cuts + 1] = m[1]
      end
      if m[2] + 1 > piece.first and m[2] + 1 <= piece.last then
        cuts[#cuts + 1] = m[2] + 1
      end
    end
    table.sort(cuts)
    for i, first in ipairs(cuts) do
      local last = (cuts[i + 1] or piece.last + 1) - 1
      if last >= first then
        local el = piece.el
        if first ~= piece.first or last ~= piece.last then
          el = pandoc.Str(piece.text:sub(first - piece.first + 1, last - piece.first + 1))
        end
        local index = match_at(first)
        if index == nil then
          out:insert(el)
        else
          if spans[index] == nil then
            spans[index] = pandoc.Span({}, value_attr(matches[index][3]))
            out:insert(spans[index])
          end
          spans[index].content:insert(el)
        end
      end
    end
  end
end

--- Inline math and code are published values only as a whole.
local function whole_value(el, targets)
  if el.t == "Math" and el.mathtype == "InlineMath" then
    return targets["$" .. el.text .. "$"] or targets[el.text]
  elseif el.t == "Code" then
    return targets[el.text]
  end
  return nil
end

local function annotate_inlines(targets, order)
  return function(inlines)
    local out, run = pandoc.Inlines({}), {}
    local function flush()
      if #run > 0 then
        wrap_run(run, targets, order, out)
        run = {}
      end
    end
    for _, el in ipairs(inlines) do
      if TEXTUAL[el.t] then
        run[#run + 1] = el
      else
        flush()
        local golden = whole_value(el, targets)
        if golden then
          out:insert(pandoc.Span({ el }, value_attr(golden)))
        else
          out:insert(el)
        end
      end
    end
    flush()
    return out
  end
end

local function broken_callout(chapter, items)
  local title = "mlsysim: " .. #items .. " broken invariant" .. (#items == 1 and "" or "s")
    .. " in this chapter"
  local list = {}
  for _, item in ipairs(items) do
    list[#list + 1] = { pandoc.Plain(pandoc.Inlines(item)) }
  end
  local content = pandoc.Blocks({ pandoc.BulletList(list) })
  local make_callout = quarto_field("Callout")
  if type(make_callout) == "function" then
    return make_callout({ type = "warning", title = title, content = content })
  end
  return pandoc.Div(
    pandoc.Blocks({ pandoc.Header(2, pandoc.Inlines(title)) }) .. content,
    pandoc.Attr("mlsysim-broken", { "callout-warning" }, { { "data-chapter", chapter.path } })
  )
end

------------------------------------------------------------------------------------------
-- The filter
------------------------------------------------------------------------------------------

function Pandoc(doc)
  local project_dir = project_directory()
  local report = read_report(report_path(doc.meta, project_dir))
  if report == nil then
    return nil
  end
  local path = chapter_path(doc.meta, project_dir)
  local chapter = find_chapter(report, path)
  if chapter == nil then
    return nil
  end
  local items = broken_items(chapter)
  if not review_build(doc.meta) then
    if chapter_failed(chapter) then
      error(failure_message(chapter, items), 0)
    end
    return nil
  end
  local targets, order = value_targets(chapter)
  if #order > 0 then
    doc.blocks = doc.blocks:walk({ Inlines = annotate_inlines(targets, order) })
  end
  if #items > 0 then
    doc.blocks:insert(1, broken_callout(chapter, items))
  end
  return doc
end
