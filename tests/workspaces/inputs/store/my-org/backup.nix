{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "acme/backup";
  manifest.description = "Backups (test stand-in)";
  manifest.readme = "backup";

  roles.server = {
    description = "Keeps the backups";
    interface.options.directory = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/backup";
      description = "Where backups are kept.";
    };
  };
  roles.client = {
    description = "Sends backups";
    interface.options = {
      target = lib.mkOption {
        type = lib.types.str;
        description = "The server machine to send backups to.";
      };
      keep = lib.mkOption {
        type = lib.types.int;
        default = 3;
        description = "How many backups to keep.";
      };
    };
  };
}
