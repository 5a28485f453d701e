--[[
mlsysim.lua: reads the invariants report that `mlsysim check` writes to
<project>/.invariants/report.json, and for the chapter being rendered:

  1. fails the render with `error(...)` when the chapter has a failed check, a shifted
     published number or an execution error (the pre-render hook would have stopped the
     build; reaching this filter means it did not run, e.g. under `quarto preview`);
  2. in review builds (metadata `mlsysim: {review: true}`, document `draft: true`, or the
     environment variable MLSYSIM_REVIEW=1) does not fail, but wraps each publication of an
     inline value (once, where the report says it was published) in a Span `.mlsysim-value`
     with `data-status` (ok, shifted, ...) and puts a `callout-warning` at the top of the chapter
     listing what is broken;
  3. when there is no report, does nothing and says so once.

Pandoc 3 Lua API only; every use of Quarto's `quarto` table is guarded, so the filter also
runs under plain pandoc (the tests run it that way, and with a stand-in `quarto` table).
Report schema: "mlsysim-invariants-report" version 2 (see quarto_ext/README.md).
]]

local REPORT_SCHEMA = "mlsysim-invariants-report"
local REPORT_VERSION = 2
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
-- Review builds: the chapter's publications (from the report)
------------------------------------------------------------------------------------------

--[[
Where is each published value in the document? The AST carries no source positions, and a
value's text alone ("2") also stands elsewhere. `mlsysim check` reads the chapter's `.qmd` and
lists its publications in source order, each with its text and the words next to it there
(invariants/publications.py). The filter only matches them to the prose:

  candidates  each occurrence of a publication's text (or its snapshot's old text) in the prose,
              not starting or ending inside a word or number; inline math and code only whole.
  alignment   at most one candidate per publication, in the publications' order, of greatest
              total weight. A candidate weighs 1 + the words next to it that agree with the
              report's, counted outward; one with fewer than AGREEING_WORDS agreeing is refused.
]]

local AGREEING_WORDS = 2 -- fewer agree by chance ("2 × 2 images" and "2 images")
local CONTEXT_BYTES = 400 -- how far around a value to look for its words
-- Not words, as in invariants/publications.py: the typographic marks pandoc's `smart`
-- extension makes from ASCII punctuation, and wide spaces.
local NOT_WORDS = { "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{2013}", "\u{2014}",
  "\u{2026}", "\u{00A0}", "\u{2009}", "\u{202F}" }

--- The words of rendered text: runs of ASCII letters and digits and non-ASCII characters.
local function words(text)
  for _, mark in ipairs(NOT_WORDS) do
    text = text:gsub(mark, " ")
  end
  local list = {}
  for word in text:gmatch("[%w\128-\255]+") do
    list[#list + 1] = word
  end
  return list
end

--- The last (`before`) or first `count` words of `text`.
local function near_words(text, count, before)
  local list, near = words(text), {}
  local from = before and math.max(1, #list - count + 1) or 1
  for i = from, math.min(#list, from + count - 1) do
    near[#near + 1] = list[i]
  end
  return near
end

--- How many words agree (ignoring ASCII case), counted outward from the value.
local function agreeing(source, document, before)
  local count = 0
  while count < #source and count < #document do
    local s = before and source[#source - count] or source[count + 1]
    local d = before and document[#document - count] or document[count + 1]
    if s:lower() ~= d:lower() then
      break
    end
    count = count + 1
  end
  return count
end

local function strings(list)
  local found = {}
  for _, item in ipairs(type(list) == "table" and list or {}) do
    if type(item) == "string" then
      found[#found + 1] = item
    end
  end
  return found
end

--- The chapter's publications that have a finding, in source order, as {texts, before, after,
--- line}; `texts` maps the published text (and the snapshot's old one) to the finding.
local function publications(chapter)
  local findings = {}
  for _, golden in ipairs(type(chapter.golden) == "table" and chapter.golden or {}) do
    if golden.kind == "inline" and text_or_nil(golden.key) and text_or_nil(golden.status) then
      findings[text_or_nil(golden.key)] = golden
    end
  end
  local pubs = {}
  for _, pub in ipairs(type(chapter.publications) == "table" and chapter.publications or {}) do
    local golden = type(pub) == "table" and findings[text_or_nil(pub.key)]
    local text = golden and text_or_nil(pub.text)
    if text and text ~= "" then
      local texts = { [text] = golden }
      local old = text_or_nil(golden.old)
      if old and old ~= "" then
        texts[old] = golden
      end
      pubs[#pubs + 1] = { texts = texts, before = strings(pub.before), after = strings(pub.after),
        line = text_or_nil(pub.line) or "?" }
    end
  end
  return pubs
end

--- Say once when the chapter's `.qmd` is not the file the report was written for.
local function warn_if_stale(chapter, project_dir)
  local path = pandoc.path.join({ project_dir, chapter.path })
  local handle = io.open(path, "rb")
  if handle == nil then
    warn_once("cannot read " .. path .. " to tell whether the invariants report is current; "
      .. "review spans trust it.")
    return
  end
  local source = handle:read("a")
  handle:close()
  if type(chapter.source_sha1) == "string" and pandoc.utils.sha1(source) ~= chapter.source_sha1 then
    warn_once(path .. " changed since `mlsysim check` wrote the invariants report; a value "
      .. "whose words changed gets no span until it runs again.")
  end
end

------------------------------------------------------------------------------------------
-- Review builds: the document's prose, in reading order
------------------------------------------------------------------------------------------

local TEXTUAL = { Str = true, Space = true, SoftBreak = true }

local function is_whole(el)
  return el.t == "Code" or (el.t == "Math" and el.mathtype == "InlineMath")
end

--- A filter visiting the prose in reading order: `on_run(run, out)` for each run of
--- Str/Space/SoftBreak, `on_whole(el, out)` for inline math and code; each appends what stands
--- in the document to `out`. Other inlines are kept, with their content visited in place
--- (a note's text where the note is). With `reading` the document is only read (`out` is nil).
local function prose_visitor(on_run, on_whole, reading)
  local filter = { traverse = "topdown" }
  function filter.Inlines(inlines)
    local out, run = not reading and pandoc.Inlines({}) or nil, {}
    local function flush()
      if #run > 0 then
        on_run(run, out)
        run = {}
      end
    end
    for _, el in ipairs(inlines) do
      if TEXTUAL[el.t] then
        run[#run + 1] = el
      else
        flush()
        if is_whole(el) then
          on_whole(el, out)
        else
          local visited = el:walk(filter)
          if out then
            out:insert(visited)
          end
        end
      end
    end
    flush()
    return out, false -- its content has been visited
  end
  return filter
end

local function run_text(run)
  local parts = {}
  for _, el in ipairs(run) do
    parts[#parts + 1] = el.t == "Str" and el.text or " "
  end
  return table.concat(parts)
end

--- The document's prose stretches in reading order, as {whole, text, offset}, and all of it as
--- one string (stretches apart by a space; `offset` is where a stretch starts in it).
local function document_prose(blocks)
  local stretches, parts, length = {}, {}, 0
  local function add(text, whole)
    stretches[#stretches + 1] = { whole = whole, text = text, offset = length + 2 }
    parts[#parts + 1] = " " .. text
    length = length + 1 + #text
  end
  blocks:walk(prose_visitor(function(run)
    add(run_text(run), false)
  end, function(el)
    add(el.text, el)
  end, true))
  return stretches, table.concat(parts)
end

------------------------------------------------------------------------------------------
-- Review builds: matching publications to the prose
------------------------------------------------------------------------------------------

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

--- {first, last} of each occurrence of `target` in a stretch (offsets in its text).
local function occurrences(stretch, target)
  local found = {}
  if stretch.whole then
    local el = stretch.whole
    if target == el.text or (el.t == "Math" and target == "$" .. el.text .. "$") then
      found[1] = { 1, #el.text }
    end
    return found
  end
  local start = 1
  while true do
    local first, last = stretch.text:find(target, start, true)
    if first == nil then
      return found
    end
    if on_boundaries(stretch.text, first, last) then
      found[#found + 1] = { first, last }
    end
    start = first + 1
  end
end

--- Every (publication, occurrence) pair worth matching, with its weight and span in `prose`.
local function candidate_pairs(pubs, stretches, prose)
  local by_text, texts, reach = {}, {}, 0
  for index, pub in ipairs(pubs) do
    reach = math.max(reach, #pub.before, #pub.after)
    for text in pairs(pub.texts) do
      if by_text[text] == nil then
        by_text[text] = {}
        texts[#texts + 1] = text
      end
      table.insert(by_text[text], index)
    end
  end
  table.sort(texts) -- a deterministic order
  local pairs_ = {}
  for stretch_index, stretch in ipairs(stretches) do
    for _, text in ipairs(texts) do
      for _, found in ipairs(occurrences(stretch, text)) do
        local start, stop = stretch.offset + found[1] - 1, stretch.offset + found[2] - 1
        local ahead = prose:sub(math.max(1, start - CONTEXT_BYTES), start - 1)
        local before = near_words(ahead, reach, true)
        local after = near_words(prose:sub(stop + 1, stop + CONTEXT_BYTES), reach, false)
        for _, index in ipairs(by_text[text]) do
          local pub = pubs[index]
          local agree = agreeing(pub.before, before, true) + agreeing(pub.after, after, false)
          if agree >= math.min(AGREEING_WORDS, #pub.before + #pub.after) then
            pairs_[#pairs_ + 1] = {
              pub = index, stretch = stretch_index, first = found[1], last = found[2],
              start = start, stop = stop, weight = 1 + agree, golden = pub.texts[text],
            }
          end
        end
      end
    end
  end
  return pairs_
end

--- The heaviest chain of pairs that keeps the publications' order through the document and
--- overlaps nowhere (so at most one pair per publication); ties go to the earlier. Pairs are
--- few (each needs agreeing words), so each looks back at all the earlier ones.
local function align(pairs_)
  table.sort(pairs_, function(a, b)
    if a.start ~= b.start then
      return a.start < b.start
    end
    if a.pub ~= b.pub then
      return a.pub < b.pub
    end
    return a.stop < b.stop
  end)
  local top
  for i, pair in ipairs(pairs_) do
    pair.score = pair.weight
    for j = 1, i - 1 do
      local earlier = pairs_[j]
      if earlier.stop < pair.start and earlier.pub < pair.pub
          and earlier.score + pair.weight > pair.score then
        pair.score, pair.previous = earlier.score + pair.weight, earlier
      end
    end
    if top == nil or pair.score > top.score then
      top = pair
    end
  end
  local chosen = {}
  while top do
    chosen[#chosen + 1] = top
    top = top.previous
  end
  return chosen
end

------------------------------------------------------------------------------------------
-- Review builds: spans around the matched values, a callout of what is broken
------------------------------------------------------------------------------------------

local function review_build(meta)
  return truthy(os.getenv("MLSYSIM_REVIEW"))
    or truthy(meta_option(meta, "review"))
    or truthy(meta.draft)
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

--- Rebuild one run of Str/Space/SoftBreak inlines with its matches ({first, last, golden}, in
--- offsets of the run's text) in Spans. Unmatched inlines are kept; a Str cut by a match
--- boundary is split.
local function wrap_run(run, matches, out)
  local pieces, length = {}, 0
  for _, el in ipairs(run) do
    local text = el.t == "Str" and el.text or " "
    pieces[#pieces + 1] = { el = el, first = length + 1, last = length + #text, text = text }
    length = length + #text
  end
  local spans = {}
  local function match_at(position)
    for index, m in ipairs(matches) do
      if position >= m.first and position <= m.last then
        return index
      end
    end
    return nil
  end
  for _, piece in ipairs(pieces) do
    -- cut the piece where a match starts or ends inside it
    local cuts = { piece.first }
    for _, m in ipairs(matches) do
      if m.first > piece.first and m.first <= piece.last then
        cuts[#cuts + 1] = m.first
      end
      if m.last + 1 > piece.first and m.last + 1 <= piece.last then
        cuts[#cuts + 1] = m.last + 1
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
            spans[index] = pandoc.Span({}, value_attr(matches[index].golden))
            out:insert(spans[index])
          end
          spans[index].content:insert(el)
        end
      end
    end
  end
end

--- The blocks with each matched value in a Span `.mlsysim-value`.
local function annotate(blocks, chapter, project_dir)
  local pubs = publications(chapter)
  if #pubs == 0 then
    return blocks
  end
  warn_if_stale(chapter, project_dir)
  local stretches, prose = document_prose(blocks)
  local matched, found = {}, {} -- stretch index -> its matches; publication index -> true
  for _, pair in ipairs(align(candidate_pairs(pubs, stretches, prose))) do
    matched[pair.stretch] = matched[pair.stretch] or {}
    table.insert(matched[pair.stretch], pair)
    found[pair.pub] = true
  end
  local missed = {}
  for index, pub in ipairs(pubs) do
    if not found[index] then
      missed[#missed + 1] = pub.line
    end
  end
  if #missed > 0 then
    warn_once(chapter.path .. ": " .. #missed .. " of " .. #pubs .. " published values got no "
      .. "review span (the words around them on the page differ from the source's), from lines "
      .. table.concat(missed, ", ") .. ".")
  end
  local index = 0
  return blocks:walk(prose_visitor(function(run, out)
    index = index + 1
    if matched[index] then
      wrap_run(run, matched[index], out)
    else
      out:extend(run)
    end
  end, function(el, out)
    index = index + 1
    out:insert(matched[index] and pandoc.Span({ el }, value_attr(matched[index][1].golden)) or el)
  end))
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
  doc.blocks = annotate(doc.blocks, chapter, project_dir)
  if #items > 0 then
    doc.blocks:insert(1, broken_callout(chapter, items))
  end
  return doc
end
