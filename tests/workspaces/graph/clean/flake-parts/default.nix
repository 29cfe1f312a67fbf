{ ... }:
{
  flake.clan = {
    meta.name = "graph";

    # A custom export interface: where a container registry listens.
    exportInterfaces.registry =
      { lib, ... }:
      {
        options.url = lib.mkOption { type = lib.types.str; };
        options.port = lib.mkOption {
          type = lib.types.port;
          default = 5000;
        };
        options.mirror = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
        };
      };

    modules.registry = ../services/registry.nix;
    modules.mesh = ../services/mesh.nix;
    modules.client = ../services/client.nix;

    inventory = {
      machines.alpha.tags = [ "server" ];
      machines.beta.tags = [ "server" ];
      machines.gamma = { };

      instances.registry-main = {
        module.name = "registry";
        module.input = "self";
        roles.server.tags = [ "server" ];
      };

      instances.mesh = {
        module.name = "mesh";
        module.input = "self";
        roles.node.tags = [ "all" ];
      };

      instances.clients = {
        module.name = "client";
        module.input = "self";
        roles.agent.machines.gamma = { };
      };
    };
  };
}
