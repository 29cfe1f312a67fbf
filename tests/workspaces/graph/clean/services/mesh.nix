# Every node publishes how to reach it (core `peer`) and reads every other node's.
{ lib, clanLib, ... }:
{
  _class = "clan.service";
  manifest.name = "acme/mesh";
  manifest.readme = "A full mesh.";
  manifest.exports.out = [ "peer" ];
  roles.node = {
    description = "A mesh node";
    perInstance =
      { mkExports, machine, exports, ... }:
      let
        others = clanLib.selectExports (
          scope: scope.serviceName == "acme/mesh" && scope.machineName != machine.name
        ) exports;
      in
      {
        exports = mkExports {
          peer.hosts = [ { plain = "${machine.name}.mesh.lan"; } ];
        };
        nixosModule.environment.etc."mesh-peers".text = builtins.toJSON (
          lib.mapAttrsToList (key: value: "${key}=${(builtins.head value.peer.hosts).plain}") others
        );
      };
  };
}
