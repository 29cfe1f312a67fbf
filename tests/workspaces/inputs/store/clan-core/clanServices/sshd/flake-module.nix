{ ... }:
let
  module = ./default.nix;
in
{
  clan.modules = {
    sshd = module;
  };
  perSystem =
    { ... }:
    {
      # test clans register it under another name; that is not what the input provides
      clan.nixosTests.sshd.clan.modules."@clan/sshd-under-test" = module;
    };
}
