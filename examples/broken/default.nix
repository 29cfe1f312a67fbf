# A module with the mistakes clan-lsp catches: `clan-lsp check examples/broken`.
{ lib, clanLib, ... }:
{
  _class = "clan.service";
  manifest.name = "example/broken";
  manifest.readme = "Shows what clan-lsp reports.";
  manifest.categories = [ "Networking" ];
  manifest.features.API = true;

  roles.server = {
    description = "Serves";
    perInstance =
      { settings, instance, mkExports }:
      {
        nixosModules = { };
        exports = mkExports {
          endpoints.hosts = [ instance ];
        };
      };
  };

  perMachine =
    { machine, settings, ... }:
    {
      nixosModule.networking.hostName = settings.name;
    };

  consumer = clanLib.selectExports { service = "vpn"; } { };
}
