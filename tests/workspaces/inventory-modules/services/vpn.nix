# A service exporting the custom `vpn` interface.
{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "acme/vpn";
  manifest.readme = "A tiny VPN.";
  manifest.exports.out = [ "vpn" ];
  roles.peer = {
    description = "A VPN peer";
    interface =
      { lib, ... }:
      {
        options.mtu = lib.mkOption {
          type = lib.types.int;
          default = 1420;
        };
        options.keepalive = lib.mkOption {
          type = lib.types.int;
          default = 0;
        };
      };
    perInstance =
      { settings, mkExports, machine, ... }:
      {
        exports = mkExports {
          vpn.pubkey = "key-of-${machine.name}";
        };
        nixosModule.environment.etc."vpn-mtu".text = toString settings.mtu;
      };
  };
}
