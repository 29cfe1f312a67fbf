"""The clan.service schema as data: the one source of truth.

Facts (names, types, defaults, enums, dates, clan's messages) come from
clan-core's source as described in the project spec; the prose is ours.
Checks, completion and hover read only this module.

Dates are clan-core commit dates (ISO), used to tell which generation of the
format a workspace uses: `since` is when a thing appeared, `removed` when it
went away.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import types as t


@dataclass(frozen=True)
class Option:
    name: str
    type: t.NixType
    doc: str
    default: str | None = None  # Nix text of the default; None: no default
    required: bool = False
    since: str | None = None
    removed: str | None = None
    replaced_by: str | None = None
    internal: bool = False  # set by clan, not by authors: never offered in completion
    readable_only: bool = False  # authors read it (config.instances) but must not define it
    children: tuple["Option", ...] = ()  # for nested option groups without a type of their own
    snippet: str | None = None  # insert text for completion, `$1` marks the cursor

    def child(self, name: str) -> "Option | None":
        for opt in self.children:
            if opt.name == name:
                return opt
        if isinstance(self.type, t.Submodule):
            return self.type.option(name)
        return None

    def child_names(self) -> list[str]:
        names = [o.name for o in self.children]
        if isinstance(self.type, t.Submodule):
            names += [o.name for o in self.type.options]
        return names


@dataclass(frozen=True)
class Argument:
    """An argument clan passes to perInstance/perMachine (or the module function)."""

    name: str
    type: str
    doc: str
    since: str | None = None
    fields: tuple[Option, ...] = ()  # what `arg.` offers


@dataclass(frozen=True)
class Helper:
    """A clanLib function."""

    name: str
    signature: str
    doc: str
    since: str | None = None
    arguments: tuple[str, ...] = ()  # exact attrset argument names, when it takes one


# ---------------------------------------------------------------- categories

CATEGORIES: tuple[str, ...] = (
    "Audio", "AudioVideo", "Desktop", "Development", "Education", "Game",
    "Graphics", "Network", "Office", "Science", "Settings", "Social",
    "System", "Uncategorized", "Utility", "Video",
)

# ---------------------------------------------------------------- manifest

MANIFEST_EXPORTS = (
    Option(
        "out",
        t.LIST_OF_STR,
        "Export interfaces this service produces. Every export value may set only "
        "these interfaces; an export while the list is empty is rejected.",
        default="[ ]",
        since="2026-02-07",
        snippet='out = [ "$1" ];',
    ),
    Option(
        "inputs",
        t.LIST_OF_STR,
        "Export interfaces this service consumes. Declared for documentation; clan "
        "does not read it.",
        default="[ ]",
        since="2026-02-07",
        snippet='inputs = [ "$1" ];',
    ),
)

ROLE_CONSTRAINT = (
    Option("minMachines", t.NullOr(t.UNSIGNED), "Fewest machines an instance must put in this role (checked by the clan CLI).", default="null"),
    Option("maxMachines", t.NullOr(t.POSITIVE), "Most machines an instance may put in this role (checked by the clan CLI).", default="null"),
)

MANIFEST_CONSTRAINTS = (
    Option(
        "maxInstances",
        t.NullOr(t.POSITIVE),
        "Most instances of this service a clan may define (checked by the clan CLI).",
        default="null",
        since="2026-05-12",
    ),
    Option(
        "roles",
        t.AttrsOf(t.Submodule(ROLE_CONSTRAINT)),
        "Per-role machine counts: `roles.<role>.minMachines` / `maxMachines`.",
        default="{ }",
        since="2026-05-12",
    ),
)

MANIFEST = (
    Option(
        "name",
        t.Str(),
        "The service's name. Required. It is the service part of every export scope "
        "key (`<name>:<instance>:<role>:<machine>`), so it must not contain `:`. "
        'clan-core uses `"clan-core/<x>"`.',
        required=True,
        snippet='name = "$1";',
    ),
    Option("description", t.STR, "One line saying what the service does.", default='"No description"', snippet='description = "$1";'),
    Option(
        "readme",
        t.STR,
        "Long documentation, usually `builtins.readFile ./README.md`. When empty, every "
        "machine using the service gets a warning.",
        default='""',
        snippet="readme = builtins.readFile ./README.md;",
    ),
    Option(
        "categories",
        t.ListOf(t.Enum(CATEGORIES)),
        "Where the service is listed. Each entry is one of the 16 categories (case-sensitive).",
        default='[ "Uncategorized" ]',
        snippet='categories = [ "$1" ];',
    ),
    Option(
        "exports",
        t.ANY,
        "The export interfaces this service produces (`out`) and consumes (`inputs`).",
        since="2026-02-07",
        children=MANIFEST_EXPORTS,
    ),
    Option(
        "constraints",
        t.ANY,
        "Limits on instances and on machines per role, checked by the clan CLI.",
        since="2026-05-12",
        children=MANIFEST_CONSTRAINTS,
    ),
    Option(
        "features",
        t.ANY,
        "Removed. `features.API` was always true; clan no longer reads it.",
        since="2025-04-27",
        removed="2026-05-12",
        replaced_by=None,
    ),
    Option(
        "traits",
        t.LIST_OF_STR,
        "Removed. The export interfaces a service produced.",
        since="2025-11-26",
        removed="2026-02-07",
        replaced_by="manifest.exports.out",
    ),
)

# ---------------------------------------------------------------- results of perInstance / perMachine

RESULT = (
    Option(
        "nixosModule",
        t.MODULE,
        "A NixOS module imported into every NixOS machine this applies to.",
        default="{ }",
        snippet="nixosModule =\n  { config, pkgs, lib, ... }:\n  {\n    $1\n  };",
    ),
    Option(
        "darwinModule",
        t.MODULE,
        "A nix-darwin module imported into every darwin machine this applies to.",
        default="{ }",
        since="2025-11-26",
        snippet="darwinModule =\n  { config, pkgs, lib, ... }:\n  {\n    $1\n  };",
    ),
    Option(
        "exports",
        t.AttrsOf(t.MODULE, lazy=True),
        "Values shared with other machines, keyed by scope. Write `exports = mkExports { ... };` "
        "so the key matches this context.",
        default="{ }",
        since="2025-08-14",
        snippet="exports = mkExports {\n  $1\n};",
    ),
)

# ---------------------------------------------------------------- roles

ROLE = (
    Option(
        "description",
        t.NullOr(t.STR),
        "What a machine in this role does. When null, every machine using the role gets a warning.",
        default="null",
        since="2025-10-01",
        snippet='description = "$1";',
    ),
    Option(
        "interface",
        t.MODULE,
        "A module declaring the options of this role's `settings` (`options.<name> = lib.mkOption { ... }`). "
        "It must be convertible to JSON schema.",
        default="{ }",
        snippet="interface =\n  { lib, ... }:\n  {\n    options.$1 = lib.mkOption {\n      type = lib.types.str;\n    };\n  };",
    ),
    Option(
        "perInstance",
        t.MODULE,
        "Evaluated once per instance and machine in this role. A function taking "
        "`{ instanceName, settings, machine, roles, ... }` (always with `...`) and returning "
        "`nixosModule`, `darwinModule` or `exports`.",
        default="{ }",
        snippet="perInstance =\n  { settings, ... }:\n  {\n    nixosModule = {\n      $1\n    };\n  };",
    ),
)

# ---------------------------------------------------------------- top level

MODULE_KEYWORDS = ("imports", "options", "config", "_file", "key", "disabledModules", "_module")

TOP_LEVEL = (
    Option("_class", t.Enum(("clan.service",)), 'The module class. When present it must be `"clan.service"`.', snippet='_class = "clan.service";'),
    Option("manifest", t.ANY, "What the service is: name, description, categories, exports.", required=True, children=MANIFEST),
    Option(
        "roles",
        t.AttrsOf(t.Submodule(ROLE)),
        "The roles machines can take. Required (but `roles = { }` is allowed). Each role has "
        "`description`, `interface` and `perInstance`.",
        required=True,
        snippet="roles.$1 = {\n  description = \"$2\";\n};",
    ),
    Option(
        "perMachine",
        t.MODULE,
        "Evaluated once per machine that is in any instance of this service. A function taking "
        "`{ machine, instances, ... }` (always with `...`) and returning `nixosModule`, "
        "`darwinModule` or `exports`.",
        default="{ }",
        snippet="perMachine =\n  { machine, ... }:\n  {\n    nixosModule = {\n      $1\n    };\n  };",
    ),
    Option(
        "exports",
        t.AttrsOf(t.MODULE, lazy=True),
        "Service-level exports, keyed by scope key. Each key's service part must be "
        "`manifest.name`; build keys with `clanLib.buildScopeKey`.",
        default="{ }",
        since="2025-10-30",
    ),
    Option("imports", t.ListOf(t.MODULE), "Other files or modules merged into this service, e.g. role files.", default="[ ]", snippet="imports = [ ./$1 ];"),
    Option("options", t.ANY, "Extra options this module declares. Once present, every setting must move into `config`."),
    Option("config", t.ANY, "Explicit settings; required for all settings once `options` is declared at top level."),
    Option("_file", t.ANY, "Module system: the file name used in messages."),
    Option("key", t.ANY, "Module system: identity used to de-duplicate imports."),
    Option("disabledModules", t.ANY, "Module system: modules to leave out."),
    Option("_module", t.ANY, "Module system internals (`_module.args`)."),
    Option("instances", t.ANY, "The instances clan builds from the inventory. Read it (`config.instances`); do not define it.", readable_only=True),
    Option("module", t.ANY, "Set by clan: the `{ name; input; }` this service was resolved from.", internal=True),
    Option("_docs_rendering", t.BOOL, "Internal to clan.", internal=True),
    Option("result", t.ANY, "Internal to clan: computed results.", internal=True),
)

# ---------------------------------------------------------------- arguments

SCOPE_FIELDS = (
    Option("serviceName", t.STR, "The service part of the scope key: the producing service's `manifest.name`."),
    Option("instanceName", t.STR, "The instance part of the scope key (empty when not scoped by instance)."),
    Option("roleName", t.STR, "The role part of the scope key (empty when not scoped by role)."),
    Option("machineName", t.STR, "The machine part of the scope key (empty when not scoped by machine)."),
)

MACHINE_FIELDS = (
    Option("name", t.STR, "This machine's name."),
    Option("roles", t.LIST_OF_STR, "Names of the roles this machine has (in this instance for perInstance; across all instances for perMachine)."),
)

META_FIELDS = (
    Option("name", t.StrMatching("[a-zA-Z0-9_-]*"), "The clan's name."),
    Option("description", t.NullOr(t.STR), "The clan's description.", default="null"),
    Option("icon", t.NullOr(t.STR), "The clan's icon.", default="null"),
    Option("domain", t.STR, "The clan's domain.", default='"clan"'),
    Option("tld", t.ANY, "Deprecated: use `domain`.", internal=True),
)

ROLE_VALUE_FIELDS = (
    Option("machines", t.ANY, "The machines of this role in this instance: `machines.<name>.settings`."),
    Option("settings", t.ANY, "Role-wide settings without machine overrides. Deprecated: reading it warns; prefer `machines.<name>.settings`."),
)

INSTANCE_VALUE_FIELDS = (
    Option("roles", t.ANY, "The roles of this instance: `roles.<role>.machines.<name>.settings`."),
)

_MODULE_SYSTEM_ARGS = (
    Argument("lib", "attrset", "nixpkgs' lib."),
    Argument("config", "attrset", "This evaluation's config."),
    Argument("options", "attrset", "This evaluation's options."),
    Argument("_class", "null", "Module system: the class (null here)."),
    Argument("_prefix", "list", "Module system: the option prefix."),
    Argument("specialArgs", "attrset", "Module system: the special arguments."),
)

PER_INSTANCE_ARGS = (
    Argument("instanceName", "string", "The name of the instance being evaluated."),
    Argument("settings", "attrset", "This machine's evaluated settings: the role's interface merged with role, machine and tag settings."),
    Argument("machine", "{ name; roles; }", "The machine being evaluated: `name`, and `roles` (its roles in this instance).", fields=MACHINE_FIELDS),
    Argument(
        "roles",
        "attrset",
        "The roles this instance uses: `roles.<role>.machines.<name>.settings`. Roles the instance does not use are absent: guard with `or { }`.",
        since="2025-04-04",
    ),
    Argument("extendSettings", "module -> attrset", "Extends this machine's settings with more modules and returns the new settings.", since="2025-04-08"),
    Argument("mkExports", "attrset -> attrset", "Wraps a value under this context's scope key `<service>:<instance>:<role>:<machine>`.", since="2025-10-30"),
    Argument("exports", "attrset", "The clan-wide merged exports of all services, keyed by scope key.", since="2025-08-14"),
    Argument("meta", "attrset", "The clan's meta (`name`, `domain`, `description`, `icon`).", since="2026-02-07", fields=META_FIELDS),
) + _MODULE_SYSTEM_ARGS

PER_MACHINE_ARGS = (
    Argument("machine", "{ name; roles; }", "The machine being evaluated: `name`, and `roles` (its roles across all instances).", fields=MACHINE_FIELDS),
    Argument("instances", "attrset", "The instances this machine is in: `instances.<name>.roles.<role>.machines.<m>.settings`."),
    Argument("mkExports", "attrset -> attrset", "Wraps a value under this machine's scope key `<service>:::<machine>`.", since="2025-10-30"),
    Argument("exports", "attrset", "The clan-wide merged exports of all services, keyed by scope key.", since="2025-08-14"),
    Argument("meta", "attrset", "The clan's meta (`name`, `domain`, `description`, `icon`).", since="2026-02-07", fields=META_FIELDS),
) + _MODULE_SYSTEM_ARGS

# Arguments of the service module function itself. There is no `pkgs`.
MODULE_ARGS = (
    Argument("lib", "attrset", "nixpkgs' lib."),
    Argument("clanLib", "attrset", "clan-core's library: `buildScopeKey`, `selectExports`, ..."),
    Argument("config", "attrset", "This service's evaluated config (e.g. `config.manifest.name`, `config.instances`)."),
    Argument("options", "attrset", "This service's options."),
    Argument("directory", "path", "The clan's directory."),
    Argument("exports", "attrset", "The clan-wide merged exports of all services."),
    Argument("meta", "attrset", "The clan's meta.", fields=META_FIELDS),
    Argument("name", "string", "The service id (`<input>-<module name>`)."),
    Argument("_class", "string", "Module system: the class."),
    Argument("_prefix", "list", "Module system: the option prefix."),
    Argument("specialArgs", "attrset", "Module system: the special arguments."),
    Argument("_ctx", "list", "Error context used by clan."),
)

# clan's words for asking perMachine for `settings` (E5).
PER_MACHINE_SETTINGS_MESSAGE = (  # clan's lines, without the blank ones
    "'perMachine' doesn't have a 'settings' argument.\n"
    "Alternatives:\n"
    "- 'instances.<instanceName>.roles.<roleName>.settings' should be used instead.\n"
    "- 'instances.<instanceName>.roles.<roleName>.machines.<machineName>.settings' should be used instead.\n"
    "If that is insufficient, you might also consider using 'roles.<roleName>.perInstance' instead of 'perMachine'."
)

# ---------------------------------------------------------------- export interfaces

_HOST_VAR = t.Submodule(
    (
        Option("machine", t.STR, "Machine holding the generator."),
        Option("generator", t.STR, "Vars generator name."),
        Option("file", t.STR, "File of the generator."),
        Option("flake", t.PATH, "The flake the generator lives in."),
    )
)
_USER = t.Submodule(
    (
        Option("username", t.STR, "Login name."),
        Option("email", t.STR, "E-mail address."),
        Option("groups", t.LIST_OF_STR, "Groups.", default="[ ]"),
        Option("displayname", t.STR, "Display name."),
    )
)
_CLIENT = t.Submodule(
    (
        Option("clientId", t.STR, "OIDC client id."),
        Option("clientName", t.STR, "Client display name.", default='""'),
        Option("redirectUris", t.LIST_OF_STR, "Allowed redirect URIs."),
        Option("scopes", t.LIST_OF_STR, "Requested scopes.", default='[ "openid" "profile" "email" ]'),
        Option("public", t.BOOL, "Whether the client is public.", default="false"),
    )
)


@dataclass(frozen=True)
class ExportInterface:
    name: str
    doc: str
    fields: tuple[Option, ...]
    since: str
    open_fields: bool = False  # fields we do not model fully: unknown names are not reported

    def field(self, name: str) -> Option | None:
        for opt in self.fields:
            if opt.name == name:
                return opt
        return None


EXPORT_INTERFACES: tuple[ExportInterface, ...] = (
    ExportInterface(
        "peer",
        "How to reach a machine over SSH.",
        (
            Option("name", t.STR, "Name of the peer.", default='"peer"'),
            Option("port", t.PORT, "SSH port.", default="22"),
            Option("user", t.NullOr(t.STR), "SSH user.", default="null"),
            Option("SSHOptions", t.LIST_OF_STR, "Extra ssh options.", default="[ ]"),
            Option(
                "hosts",
                t.ListOf(t.AttrTag((Option("plain", t.STR, "A host name or address."), Option("var", _HOST_VAR, "A host read from a vars generator file.")))),
                "Addresses of the machine: `{ plain = \"10.0.0.1\"; }` or `{ var = { machine; generator; file; flake; }; }`.",
                default="[ ]",
            ),
        ),
        since="2025-11-25",
    ),
    ExportInterface(
        "networking",
        "Which network module reaches machines and how preferred it is.",
        (
            Option("priority", t.INT, "Higher is tried earlier.", default="1000"),
            Option("module", t.STR, 'The network module, e.g. "clan_lib.network.tor".', default='"clan_lib.network.direct"'),
        ),
        since="2025-11-25",
    ),
    ExportInterface(
        "endpoints",
        "Host names a service answers on.",
        (Option("hosts", t.LIST_OF_STR, "Host names.", default="[ ]"),),
        since="2026-01-06",
    ),
    ExportInterface(
        "generators",
        "Vars generators shared with other machines.",
        (Option("generators", t.AttrsOf(t.MODULE), "Vars generators by name.", default="{ }"),),
        since="2026-01-23",
    ),
    ExportInterface(
        "dataMesher",
        "Files and namespaces distributed through data-mesher.",
        (
            Option("files", t.AttrsOf(t.LIST_OF_STR), "Files by name, each a list of signers.", default="{ }"),
            Option("namespaces", t.LIST_OF_STR, "Namespaces.", default="[ ]"),
        ),
        since="2026-02-05",
    ),
    ExportInterface(
        "auth",
        "Users and OIDC clients for identity providers.",
        (
            Option("users", t.AttrsOf(_USER), "Users by name.", default="{ }"),
            Option("client", t.NullOr(_CLIENT), "An OIDC client.", default="null"),
            Option("varsGenerator", t.NullOr(t.AttrsOf(t.ANY)), "A vars generator for the client.", default="null"),
        ),
        since="2026-04-09",
    ),
)

INTERFACES_BY_NAME = {i.name: i for i in EXPORT_INTERFACES}

# ---------------------------------------------------------------- clanLib

CLANLIB_HELPERS: tuple[Helper, ...] = (
    Helper(
        "buildScopeKey",
        "{ serviceName ? \"\", instanceName ? \"\", roleName ? \"\", machineName ? \"\" } -> string",
        "Joins the four parts into a scope key `service:instance:role:machine`. Needs a service or a machine; no part may contain `:`.",
        since="2025-12-03",
        arguments=("serviceName", "instanceName", "roleName", "machineName"),
    ),
    Helper("parseScope", "string -> { serviceName; instanceName; roleName; machineName; }", "Splits a scope key into its four parts.", since="2025-12-03"),
    Helper(
        "selectExports",
        "(scope -> bool) -> exports -> exports",
        "Keeps the exports whose parsed scope key satisfies the predicate. The predicate sees "
        "`serviceName`, `instanceName`, `roleName`, `machineName` only, never the value.",
        since="2025-12-02",
    ),
    Helper("getExport", "scope -> exports -> value", "The export under exactly this scope's key; throws when missing.", since="2025-12-03", arguments=("serviceName", "instanceName", "roleName", "machineName")),
    Helper("checkScope", "constraint -> scopeKey -> scopeKey", "Returns the key, or throws when a non-empty expected part differs.", since="2025-12-03"),
    Helper("checkExports", "constraint -> exports -> exports", "Checks every key of an exports set with checkScope (lazily, when a value is forced).", since="2025-12-03"),
    Helper("getPublicValue", "{ machine; generator; file; flake; default ? ... } -> string", "Reads a public vars value."),
    Helper("mkRemovedOption", "name -> message -> option", "An option that throws a removal message when used."),
    Helper("concatMapListToAttrs", "(a -> attrset) -> [a] -> attrset", "Maps a list and merges the resulting sets."),
    Helper("evalService", "{ modules; prefix } -> evaluation", "Evaluates a service on its own (introspection)."),
    Helper("filterAttrsByName", "(name -> bool) -> attrset -> attrset", "Keeps the attributes whose name satisfies the predicate."),
)

HELPERS_BY_NAME = {h.name: h for h in CLANLIB_HELPERS}

CLANLIB_EXPORTS_RENAMED = "clanLib.exports has been renamed. Use the utility in clanLib directly"
CLANLIB_VARS_GETPUBLICVALUE = "'vars.getPublicValue' was renamed. Use 'getPublicValue' instead."

# Wrappers of nixpkgs' module system that do not change which keys a value sets.
TRANSPARENT_WRAPPERS = ("mkIf", "mkDefault", "mkForce", "mkOverride", "mkBefore", "mkAfter", "mkOrder", "mkOptionDefault", "mkImageMediaOverride")


def find(options: tuple[Option, ...], name: str) -> Option | None:
    for opt in options:
        if opt.name == name:
            return opt
    return None


def names(options: tuple[Option, ...], include_internal: bool = False) -> list[str]:
    return [o.name for o in options if include_internal or not o.internal]

# ---------------------------------------------------------------- clan-core's own services

# The services clan-core provides (clan.modules of clan-core @ 2026-08-22) and their roles.
# `module.input = null` resolves here. Older and newer clan-core may differ, so a name
# missing here is a warning, never an error.
CLAN_CORE_SNAPSHOT = "2026-08-22"
CLAN_CORE_SERVICES: dict[str, tuple[str, ...]] = {
    "admin": ("default",),
    "borgbackup": ("client", "server"),
    "certificates": ("ca", "default"),
    "data-mesher": ("admin", "bootstrap", "default", "peer", "signer"),
    "dm-dns": ("default", "push"),
    "dyndns": ("default",),
    "emergency-access": ("default",),
    "garage": ("default",),
    "hello-world": ("evening", "morning"),
    "importer": ("default",),
    "installer": ("iso",),
    "internet": ("default",),
    "kde": ("default",),
    "localbackup": ("default",),
    "matrix-synapse": ("default",),
    "monitoring": ("client", "server"),
    "mycelium": ("peer",),
    "ncps": ("client", "server"),
    "p2p-ssh-iroh": ("server",),
    "packages": ("default",),
    "pki": ("default",),
    "sshd": ("client", "server"),
    "syncthing": ("peer",),
    "tor": ("client", "server"),
    "trusted-nix-caches": ("default",),
    "users": ("default",),
    "wifi": ("default",),
    "wireguard": ("controller", "peer"),
    "yggdrasil": ("default",),
    "zerotier": ("controller", "moon", "peer"),
}
CLAN_CORE_DEPRECATED = ("coredns",)

INVENTORY_SERVICES_REMOVED = (
    "The `inventory.services` option has been removed. Use `inventory.instances` instead. "
    "See: https://clan.lol/docs/guides/migrations/migrate-inventory-services"
)


# ---------------------------------------------------------------- the clan configuration
# The options of a clan (`clan-core.lib.clan { ... }`, flake-parts `clan`, a `clan.nix`),
# of its inventory, and of inventory machines and instances (clan-core's
# modules/clan/top-level-interface.nix and modules/inventoryClass/, 2026-08-22).

INVENTORY_MACHINE = (
    Option("name", t.STR, "The machine's name; defaults to its attribute name."),
    Option("description", t.NullOr(t.STR), "A description of the machine.", default="null"),
    Option("icon", t.NullOr(t.STR), "An icon for the machine.", default="null"),
    Option("machineClass", t.Enum(("nixos", "darwin")), "Whether the machine runs NixOS or nix-darwin.", default='"nixos"'),
    Option("tags", t.LIST_OF_STR, "Tags of the machine: instances select machines by tag (`roles.<r>.tags`).", default="[ ]"),
    Option("installedAt", t.NullOr(t.INT), "When the machine was installed (set by the clan CLI).", default="null"),
    Option(
        "deploy", t.ANY, "How the clan CLI reaches the machine.",
        children=(
            Option("targetHost", t.NullOr(t.STR), "The host to deploy to, `root@host` or `host`.", default="null"),
            Option("buildHost", t.NullOr(t.STR), "The host to build on.", default="null"),
            Option("forwardAgent", t.BOOL, "Forward the SSH agent while deploying.", default="false"),
        ),
    ),
)

INSTANCE_MODULE = (
    Option("name", t.STR, "The service's name: a key of `clan.modules` (with `input = \"self\"`) or of the input's services."),
    Option("input", t.NullOr(t.STR), "The flake input that provides the service: `\"self\"` for this clan's own `modules`, null (the default) for clan-core.", default="null"),
)

INSTANCE_ROLE = (
    Option("machines", t.ANY, "Machines in this role: `machines.<name>.settings`."),
    Option("tags", t.ANY, "Machines in this role by tag: `tags.<tag> = { }` or `tags = [ \"<tag>\" ]`; `all` is every machine."),
    Option("settings", t.ANY, "Settings of every machine in this role, checked against the role's interface."),
    Option("extraModules", t.ANY, "Extra NixOS modules for the machines of this role."),
)

INSTANCE = (
    Option("module", t.ANY, "Which service this instance runs.", children=INSTANCE_MODULE),
    Option("roles", t.ANY, "The service's roles this instance uses, and their machines."),
)

INVENTORY = (
    Option("meta", t.ANY, "The clan's meta data (set `meta` at the clan's top level instead).", children=META_FIELDS),
    Option("machines", t.ANY, "The clan's machines: `machines.<name> = { tags = [ ... ]; }`."),
    Option("instances", t.ANY, "Service instances: `instances.<name> = { module.name = ...; roles.<r>.machines.<m> = { }; }`."),
    Option("tags", t.ANY, "Computed tags (`all`, `nixos`, `darwin`) and tags of your own: `tags.<tag> = [ machine names ]`."),
    Option("modules", t.ANY, "Has no effect: register services in the clan's `modules`.", removed="2025-01-01"),
    Option("services", t.ANY, "Removed: use `instances`.", removed="2025-06-01"),
)

CLAN = (
    Option("meta", t.ANY, "The clan's name, domain, description and icon.", children=META_FIELDS),
    Option("inventory", t.ANY, "Machines, tags and service instances.", children=INVENTORY),
    Option("machines", t.ANY, "NixOS (or nix-darwin) configuration per machine: `machines.<name> = { config, ... }: { ... }`; each also becomes an inventory machine.", default="{ }"),
    Option("modules", t.ANY, "Services this clan provides: `modules.<name> = ./service.nix;` used with `module.input = \"self\"`.", default="{ }"),
    Option("exportInterfaces", t.ANY, "Export interfaces of this clan: `exportInterfaces.<name> = { lib, ... }: { options.<field> = lib.mkOption { ... }; }`.", default="{ }"),
    Option("self", t.ANY, "The flake itself (`inherit self;`)."),
    Option("directory", t.ANY, "The clan's directory: `machines/`, `vars/` and `inventory.json` are read from it.", default="self"),
    Option("specialArgs", t.ANY, "Extra arguments for every machine's NixOS modules.", default="{ }"),
    Option("pkgsForSystem", t.ANY, "A function from system to the nixpkgs to use.", default="_: null"),
    Option("vars", t.ANY, "Settings of clan's vars.", default="{ }"),
    Option("secrets", t.ANY, "Settings of clan's secrets.", default="{ }"),
    Option("templates", t.ANY, "Templates this clan provides.", default="{ }"),
    Option("checks", t.ANY, "Extra checks of the clan.", default="{ }"),
    Option("varsDirectory", t.NullOr(t.PATH), "Where vars are kept, if not `directory`/vars.", default="null"),
    Option("imports", t.ANY, "More clan configuration files: `imports = [ ./clan.nix ];`."),
)

# Tags clan computes for every inventory.
IMPLICIT_TAGS = ("all", "nixos", "darwin")


def options_under(options: tuple[Option, ...], names: list[str] | tuple[str, ...]) -> tuple[Option, ...] | None:
    """The options at a path below `options`: through option groups, submodules, and
    `attrsOf`/`nullOr` of submodules (where any name is the `attrsOf` key).
    None when the path leads to no set of options."""
    current: tuple[Option, ...] | None = options
    free: t.NixType | None = None  # an attrsOf element waiting for its key
    for name in names:
        if free is not None:
            element, free = _strip_null(free), None
            current = None
            if isinstance(element, t.Submodule):
                current = element.options
            elif isinstance(element, t.AttrsOf):
                free = element.element
            else:
                return None
            continue
        option = next((o for o in current or () if o.name == name), None)
        if option is None:
            return None
        if option.children:
            current = option.children
            continue
        kind = _strip_null(option.type)
        if isinstance(kind, t.Submodule):
            current = kind.options
        elif isinstance(kind, t.AttrsOf):
            current, free = None, kind.element
        else:
            return None
    return None if free is not None else current


def _strip_null(kind: t.NixType) -> t.NixType:
    while isinstance(kind, t.NullOr):
        kind = kind.inner
    return kind
