"""Producers: the scope keys a service's exports create, and the interfaces and fields set.

clan-core builds the keys (lib/inventory/distributed-service/service-module.nix):
- perInstance's `mkExports` -> `<manifest.name>:<instance>:<role>:<machine>`, for every machine
  of the role in each instance;
- perMachine's `mkExports` -> `<manifest.name>:::<machine>`, for every machine of the service;
- the service-level `exports` keeps the keys as written (checked to start with the service name);
  the common `lib.mapAttrs' (instanceName: _: { name = clanLib.buildScopeKey { inherit instanceName;
  serviceName = config.manifest.name; }; value = ...; }) config.instances` is read as one key per
  instance, `<manifest.name>:<instance>::`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checks.exports import export_sites, export_values
from ..checks.structure import body_of, roles_of
from ..model import AttrSet, Call, Lambda, ServiceModule, SourceFile, Str, Value
from ..syntax import Node


@dataclass
class Written:
    """What one export site sets: interfaces with their fields (None: fields not literal)."""

    interfaces: dict[str, set[str] | None] | None  # None: not statically known
    nodes: dict[str, tuple[SourceFile, Node]] = field(default_factory=dict)  # interface key, for findings


@dataclass
class ProducerSite:
    """A place in a service module that exports, with the shape of the keys it makes."""

    where: str  # "perInstance", "perMachine", "exports"
    source: SourceFile
    node: Node | None  # the `exports` key
    role: str | None = None
    written: Written | None = None  # for mkExports sites
    literal: dict[str, Written] = field(default_factory=dict)  # service-level literal keys
    per_instance: Written | None = None  # service-level mapAttrs' over config.instances
    known: bool = True  # keys statically known


@dataclass
class ModuleExports:
    sites: list[ProducerSite]
    known: bool  # every export of the module is a site above


def _written(value: Value | None, source: SourceFile) -> Written:
    if not isinstance(value, AttrSet) or value.dynamic:
        return Written(None)
    found: dict[str, set[str] | None] = {}
    written = Written(found)
    for iface in value.names():
        keys = value.key_nodes(iface)
        if keys:
            written.nodes[iface] = (source, keys[0])
        inner = value.get(iface)
        found[iface] = set(inner.names()) if isinstance(inner, AttrSet) and not inner.dynamic else None
    return written


def _per_instance_idiom(value: Value) -> Value | None:
    """The `value` of `lib.mapAttrs' (instanceName: _: { name = buildScopeKey {...}; value = ...; }) config.instances`."""
    if not isinstance(value, Call) or value.name != "mapAttrs'" or len(value.arg_thunks) != 2:
        return None
    over = value.arg_thunks[1].node
    function = value.arg(0)
    if over is None or not isinstance(function, Lambda) or function.param is None:
        return None
    text = over.text.decode() if over.text else ""
    if text.strip("() ") != "config.instances":
        return None
    inner = function.body
    if isinstance(inner, Lambda):
        inner = inner.body
    if not isinstance(inner, AttrSet):
        return None
    name = inner.get("name")
    if not (isinstance(name, Call) and name.name == "buildScopeKey"):
        return None
    spec = name.arg(0)
    if not isinstance(spec, AttrSet) or spec.dynamic or set(spec.names()) != {"instanceName", "serviceName"}:
        return None
    instance = spec.defs("instanceName")[0].thunk
    inherited = instance.node is None and function.param_node is not None and instance.binder == function.param_node
    named = instance.node is not None and instance.node.text == function.param.encode()
    if not (inherited or named):  # `inherit instanceName;` or `instanceName = name;`
        return None
    service = spec.get("serviceName")
    service_node = spec.defs("serviceName")[0].thunk.node
    if isinstance(service, Str) or service_node is None or service_node.text != b"config.manifest.name":
        return None
    return inner.get("value")


def module_exports(module: ServiceModule) -> ModuleExports:
    """What a module exports: read once per module (the graph is rebuilt on every keystroke
    in a small clan; the other modules stay the same objects)."""
    return module.derived("module exports", lambda: _module_exports(module))


def _module_exports(module: ServiceModule) -> ModuleExports:
    sites: list[ProducerSite] = []
    known = not module.is_dynamic()
    for part in module.parts():
        for role_name, role in roles_of(part):
            if not isinstance(role, AttrSet):
                known = False
                continue
            result = body_of(role.get("perInstance"))
            if result is not None and (not isinstance(result, AttrSet) or result.dynamic):
                known = False
        result = body_of(part.effective().get("perMachine"))
        if result is not None and (not isinstance(result, AttrSet) or result.dynamic):
            known = False
    for site in export_sites(module):
        source = site.part.source
        producer = ProducerSite(site.where, source, site.key_node, site.role)
        value = site.value
        if site.where in ("perInstance", "perMachine"):
            if isinstance(value, Call) and value.name == "mkExports":
                producer.written = _written(value.arg(0), source)
            elif isinstance(value, AttrSet) and not value.dynamic and not value.names():
                continue  # `exports = { }`
            elif isinstance(value, AttrSet) and not value.dynamic:
                for key, item, _node in export_values(site):
                    producer.literal[key] = _written(item, source)
            else:
                producer.known = False
        else:
            idiom = _per_instance_idiom(value)
            if idiom is not None:
                producer.per_instance = _written(idiom, source)
            elif isinstance(value, AttrSet) and not value.dynamic:
                for key, item, _node in export_values(site):
                    producer.literal[key] = _written(item, source)
            else:
                producer.known = False
        known &= producer.known
        sites.append(producer)
    return ModuleExports(sites, known)


def manifest_name(module: ServiceModule) -> str | None:
    for value in module.values("manifest", "name"):
        if isinstance(value, Str) and value.text is not None:
            return value.text
    return None
