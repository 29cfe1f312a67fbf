; Syntax clan-lsp looks up in every service file. Read once per tree into a
; SyntaxIndex (clan_lsp/syntax/queries.py); rules filter it by byte range.

; A function application whose callee is a name or a dotted path:
; `mkExports { ... }`, `clanLib.buildScopeKey { ... }`, `lib.mkIf c v`.
; This matches the innermost application; curried arguments are its ancestors.
(apply_expression
  function: [(variable_expression) (select_expression)] @callee) @call

; An attribute selection rooted at a variable: `clanLib.exports.x`,
; `roles.server.settings`, `scope.serviceName`, `args.foo`.
(select_expression
  expression: (variable_expression) @select.base
  attrpath: (attrpath) @select.path) @select

; `scope ? serviceName`
(has_attr_expression
  expression: (variable_expression) @has.base
  attrpath: (attrpath) @has.path) @has

; Every variable read.
(variable_expression) @variable
