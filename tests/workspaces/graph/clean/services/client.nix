# Agents read the registries of the servers.
{ lib, clanLib, ... }:
{
  _class = "clan.service";
  manifest.name = "acme/client";
  manifest.readme = "Uses the registries.";
  roles.agent = {
    description = "Pulls from the registries";
    perInstance =
      { exports, ... }:
      let
        registries = clanLib.selectExports (
          scope: scope.serviceName == "acme/registry" && scope.roleName == "server"
        ) exports;
        urls = map (value: "${value.registry.url}:${toString value.registry.port}") (lib.attrValues registries);
      in
      {
        nixosModule.environment.etc."registries".text = builtins.toJSON {
          keys = lib.attrNames registries;
          inherit urls;
        };
      };
  };
}
