{ lib, ... }:
{
  clan.modules.backup = ./backup.nix;
  clan.exportInterfaces.tunnel =
    { lib, ... }:
    {
      options.endpoint = lib.mkOption {
        type = lib.types.str;
        description = "Where the tunnel ends.";
      };
    };
}
