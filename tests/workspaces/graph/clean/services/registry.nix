# Each server publishes where its registry listens (the custom `registry` interface).
{ ... }:
{
  _class = "clan.service";
  manifest.name = "acme/registry";
  manifest.readme = "A container registry.";
  manifest.exports.out = [ "registry" "peer" "endpoints" ];
  roles.server = {
    description = "Serves the registry";
    perInstance =
      { mkExports, machine, ... }:
      {
        exports = mkExports {
          registry.url = "https://${machine.name}.registry.lan";
        };
        nixosModule.environment.etc."registry-name".text = machine.name;
      };
  };
}
