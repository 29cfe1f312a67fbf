-- clan-lsp for Neovim: one setup() for every release.
--   0.11+      vim.lsp.config + vim.lsp.enable
--   0.8 - 0.10 vim.lsp.start on FileType nix
--   0.7        vim.lsp.start_client + buf_attach_client
-- clan-lsp reports only clan.service findings, so it runs beside nil or nixd.
local M = {}

M.defaults = {
  cmd = { "clan-lsp" },
  filetypes = { "nix" },
  root_markers = { "flake.nix", ".git" },
  -- initializationOptions, see the README: diagnostics.run ("onType"/"onSave"),
  -- diagnostics.disabled (codes), diagnostics.maxPerFile, clanDate
  init_options = {},
}

local function root_dir(bufnr, markers)
  local path = vim.api.nvim_buf_get_name(bufnr)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while dir and dir ~= "" do
    for _, marker in ipairs(markers) do
      if vim.loop.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.fnamemodify(path, ":p:h")
end

function M.setup(opts)
  local config = vim.tbl_deep_extend("force", M.defaults, opts or {})
  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config("clan_lsp", {
      cmd = config.cmd,
      filetypes = config.filetypes,
      root_markers = config.root_markers,
      init_options = config.init_options,
    })
    vim.lsp.enable("clan_lsp")
    return
  end
  local client_id = nil
  local group = vim.api.nvim_create_augroup("clan_lsp", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      local bufnr = args.buf
      local settings = {
        name = "clan_lsp",
        cmd = config.cmd,
        root_dir = root_dir(bufnr, config.root_markers),
        init_options = config.init_options,
      }
      if vim.lsp.start then
        vim.lsp.start(settings, { bufnr = bufnr })
        return
      end
      if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
        client_id = vim.lsp.start_client(settings)
      end
      if client_id then
        vim.lsp.buf_attach_client(bufnr, client_id)
      end
    end,
  })
end

return M
