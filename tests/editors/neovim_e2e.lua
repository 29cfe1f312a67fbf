-- Driven by test_neovim.py: real Neovim, its own LSP client, our documented setups.
-- Writes what it saw as JSON to $CLAN_LSP_RESULT and quits with 1 if anything is missing.
-- $CLAN_LSP_SETUP picks how the server is configured: "module" (the bundled setup module, any
-- release) or "readme" (the README's `vim.lsp.config`/`vim.lsp.enable` block, run as written
-- there with only the command replaced: 0.11+).
local root = os.getenv("CLAN_LSP_ROOT")
local result_path = os.getenv("CLAN_LSP_RESULT")
local setup = os.getenv("CLAN_LSP_SETUP") or "module"
local cmd = { os.getenv("CLAN_LSP_PYTHON"), "-m", "clan_lsp" }
vim.cmd("filetype on")

local result = { diagnostics = {}, completion = {}, definition = {}, errors = {}, setup = setup }
local v = vim.version()
result.version = string.format("%d.%d.%d", v.major, v.minor, v.patch)

local function readme_block(heading)
  local text = table.concat(vim.fn.readfile(root .. "/editors/neovim/README.md"), "\n")
  local section = text:match("\n## " .. heading .. "\n(.-)\n## ")
  return section and section:match("```lua\n(.-)```")
end

local configured, setup_error = pcall(function()
  if setup == "readme" then
    local block = readme_block("Neovim 0.11 and newer")
    assert(block, "no lua block under '## Neovim 0.11 and newer' in editors/neovim/README.md")
    local command = "{ " .. table.concat(vim.tbl_map(function(part) return string.format("%q", part) end, cmd), ", ") .. " }"
    local replaced, count = block:gsub('{ "clan%-lsp" }', function() return command end)
    assert(count == 1, "the README block names no { \"clan-lsp\" } command")
    assert((loadstring or load)(replaced, "README"))()
  else
    vim.opt.rtp:append(root .. "/editors/neovim")
    require("clan_lsp").setup({ cmd = cmd })
  end
end)
if not configured then
  table.insert(result.errors, "setup (" .. setup .. ") failed: " .. tostring(setup_error))
end

local function client_for(bufnr)
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    return client
  end
end

local function open(path)
  vim.cmd("edit " .. path)
  local bufnr = vim.api.nvim_get_current_buf()
  local attached = vim.wait(15000, function() return client_for(bufnr) ~= nil end, 50)
  if not attached then
    table.insert(result.errors, "no client attached to " .. path)
  end
  return bufnr
end

local function find(bufnr, needle)
  for line, text in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local column = text:find(needle, 1, true)
    if column then
      return line - 1, column - 1
    end
  end
end

local function request(bufnr, method, line, character)
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = line, character = character } }
  local client = client_for(bufnr)
  local response
  if vim.fn.has("nvim-0.11") == 1 then
    response = client:request_sync(method, params, 10000, bufnr) -- a method since 0.11
  else
    response = client.request_sync(method, params, 10000, bufnr)
  end
  if response == nil or response.err then
    table.insert(result.errors, method .. " failed: " .. vim.inspect(response))
    return nil
  end
  return response.result
end

local ok, err = pcall(function()
  -- diagnostics on the broken example
  local broken = open(root .. "/examples/broken/default.nix")
  -- read once the count has settled: a second set (pushed and pulled) would come later
  local count, since = 0, vim.loop.now()
  vim.wait(20000, function()
    local now = #vim.diagnostic.get(broken)
    if now ~= count then
      count, since = now, vim.loop.now()
    end
    return count > 0 and vim.loop.now() - since > 1500
  end, 50)
  local client = client_for(broken)
  result.pull = client ~= nil and client.server_capabilities.diagnosticProvider ~= nil
  result.client_pulls = vim.lsp.protocol.make_client_capabilities().textDocument.diagnostic ~= nil
  for _, d in ipairs(vim.diagnostic.get(broken)) do
    table.insert(result.diagnostics, { line = d.lnum, col = d.col, code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code), message = d.message })
  end

  -- completion and definition on the clean example
  local clean = open(root .. "/examples/hello-mesh/default.nix")
  local line, column = find(clean, "settings.port")
  local items = request(clean, "textDocument/completion", line, column + #"settings.")
  for _, item in ipairs((items and (items.items or items)) or {}) do
    table.insert(result.completion, item.label)
  end
  local locations = request(clean, "textDocument/definition", line, column + #"settings.p")
  for _, location in ipairs(locations or {}) do
    table.insert(result.definition, { uri = location.uri, line = location.range.start.line, character = location.range.start.character })
  end
end)
if not ok then
  table.insert(result.errors, tostring(err))
end

local file = io.open(result_path, "w")
file:write(vim.fn.json_encode(result))
file:close()
local failed = #result.errors > 0 or #result.diagnostics == 0 or #result.completion == 0 or #result.definition == 0
vim.cmd(failed and "cquit 1" or "qall!")
