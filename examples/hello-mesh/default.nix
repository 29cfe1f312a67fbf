# A clean clan.service module: `clan-lsp check examples/hello-mesh` reports nothing.
{ lib, clanLib, ... }:
{
  _class = "clan.service";
  manifest = {
    name = "example/hello-mesh";
    description = "Greets every peer of a small mesh";
    readme = builtins.readFile ./README.md;
    categories = [ "Network" ];
    exports.out = [ "peer" "networking" ];
  };

  # Instance-level data: one key per instance, service part = manifest.name.
  exports = lib.mapAttrs' (instanceName: _: {
    name = clanLib.buildScopeKey {
      inherit instanceName;
      serviceName = "example/hello-mesh";
    };
    value.networking.priority = 500;
  }) { };

  imports = [ ./greeter.nix ];

  roles.peer = {
    description = "A machine that joins the mesh";
    interface =
      { lib, ... }:
      {
        options.port = lib.mkOption {
          type = lib.types.port;
          default = 7000;
          description = "Port the greeter listens on.";
        };
      };
    perInstance =
      { settings, machine, mkExports, ... }:
      {
        exports = mkExports {
          peer.hosts = [ { plain = "${machine.name}.mesh"; } ];
        };
        nixosModule = {
          networking.firewall.allowedTCPPorts = [ settings.port ];
        };
      };
  };
}
