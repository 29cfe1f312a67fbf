{ lib, ... }:
{
  clan.modules.greeter = lib.modules.importApply ./default.nix { };
  clan.deprecatedModules = [ "old-greeter" ];
  clan.modules.old-greeter = ./old.nix;
}
