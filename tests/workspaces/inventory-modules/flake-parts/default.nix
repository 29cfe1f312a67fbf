{ lib, ... }:
{
  flake.clan = {
    meta.name = "acme";

    # A custom export interface: peers publish a WireGuard-style public key.
    exportInterfaces.vpn =
      { lib, ... }:
      {
        options.pubkey = lib.mkOption {
          type = lib.types.str;
          description = "The peer's public key.";
        };
        options.port = lib.mkOption {
          type = lib.types.port;
          default = 51820;
        };
      };

    modules.vpn = ../services/vpn.nix;
    modules.hello = ../services/hello;

    inventory = {
      machines.alpha = { tags = [ "edge" ]; };
      machines.beta = { };
      modules.legacy = { }; # expect: warning[inventory-modules]

      instances.office-vpn = {
        module = {
          name = "vpn";
          input = "self";
        };
        roles.peer.machines.alpha.settings.mtu = 1400;
        roles.peer.machines.beta = { };
        roles.peer.settings.keepalive = 25;
      };

      instances.greeting = {
        module.name = "hello";
        module.input = "self";
        roles.greeter.tags.edge = { };
        roles.greeter.settings.text = "hi";
      };
    };
  };
}
