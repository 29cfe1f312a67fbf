{ ... }:
{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "clan-core/greeter";
  manifest.description = "Greets (test stand-in)";
  manifest.readme = "greeter";

  roles.morning = {
    description = "Says good morning";
    interface.options.greeting = lib.mkOption {
      type = lib.types.str;
      default = "Good morning";
      description = "What to say.";
    };
  };
  roles.evening = {
    description = "Says good evening";
    interface.options.greeting = lib.mkOption {
      type = lib.types.str;
      default = "Good evening";
      description = "What to say.";
    };
  };
}
