-- Driven by test_neovim.py: real Neovim, its own LSP client, the bundled setup module.
-- Writes what it saw as JSON to $CLAN_LSP_RESULT and quits with 1 if anything is missing.
local root = os.getenv("CLAN_LSP_ROOT")
local result_path = os.getenv("CLAN_LSP_RESULT")
vim.opt.rtp:append(root .. "/editors/neovim")
vim.cmd("filetype on")
require("clan_lsp").setup({ cmd = { os.getenv("CLAN_LSP_PYTHON"), "-m", "clan_lsp" } })

local result = { diagnostics = {}, completion = {}, definition = {}, errors = {} }

local function client_for(bufnr)
  local clients = vim.lsp.buf_get_clients and vim.lsp.buf_get_clients(bufnr) or vim.lsp.get_clients({ bufnr = bufnr })
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
  local response = client_for(bufnr).request_sync(method, params, 10000, bufnr)
  if response == nil or response.err then
    table.insert(result.errors, method .. " failed: " .. vim.inspect(response))
    return nil
  end
  return response.result
end

local ok, err = pcall(function()
  -- diagnostics on the broken example
  local broken = open(root .. "/examples/broken/default.nix")
  vim.wait(15000, function() return #vim.diagnostic.get(broken) > 0 end, 50)
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
