{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "clan-core/sshd";
  manifest.description = "Remote access over SSH (test stand-in)";
  manifest.readme = "sshd";

  roles.server = {
    description = "Runs sshd";
    interface =
      { lib, ... }:
      {
        options.authorizedKeys = lib.mkOption {
          type = lib.types.attrsOf lib.types.str;
          default = { };
          description = "SSH public keys allowed to log in as root.";
        };
        options.generateRootKey = lib.mkEnableOption "a root SSH key pair";
        options.certificate = {
          enable = lib.mkOption {
            type = lib.types.bool;
            default = true;
            description = "Sign the host key.";
          };
        };
        options.port = lib.mkOption {
          type = lib.types.port;
          default = 22;
          description = "The port sshd listens on.";
        };
      };
    perInstance = { settings, ... }: { nixosModule = { services.openssh.ports = [ settings.port ]; }; };
  };

  roles.client = {
    description = "Trusts the servers' host keys";
    interface = { ... }: { options.searchDomains = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; }; };
  };
}
