{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "local/motd";
  manifest.description = "Message of the day (test stand-in)";
  manifest.readme = "motd";
  roles.default = {
    description = "Shows the message";
    interface.options.text = lib.mkOption {
      type = lib.types.str;
      description = "The message.";
    };
  };
}
