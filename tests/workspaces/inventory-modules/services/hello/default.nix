# A second service, as a folder.
{
  _class = "clan.service";
  manifest.name = "acme/hello";
  manifest.readme = "Greets.";
  roles.greeter = {
    description = "Greets";
    interface =
      { lib, ... }:
      {
        options.text = lib.mkOption { type = lib.types.str; };
      };
    perInstance =
      { settings, ... }:
      {
        nixosModule.environment.etc.greeting.text = settings.text;
      };
  };
}
