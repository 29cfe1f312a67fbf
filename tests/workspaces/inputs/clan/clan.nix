{
  meta.name = "inputs-demo";

  inventory.machines = {
    alpha = { };
    beta = { };
  };

  inventory.instances = {
    sshd = {
      roles.server.tags.all = { };
      roles.server.settings.authorizedKeys = {
        admin = "ssh-ed25519 AAAA admin";
      };
      roles.server.settings.port = 2222;
      roles.server.settings.certificate.enable = false;
      roles.server.machines.alpha.settings.generateRootKey = true;
      roles.client.machines.beta = { };
    };

    hello = {
      module.name = "greeter";
      roles.morning.machines.alpha.settings.greeting = "Good morning";
      roles.evening.tags.all = { };
    };

    backups = {
      module.name = "backup";
      module.input = "my-org";
      roles.server.machines.alpha.settings.directory = "/var/backup";
      roles.client.tags.all.settings.keep = 7;
      roles.client.settings.target = "alpha";
    };

    metrics = {
      module.name = "metrics";
      module.input = "my-org";
      roles.collector.machines.alpha = { };
    };

    motd = {
      module.name = "motd";
      module.input = "local-mods";
      roles.default.tags.all = { };
      roles.default.settings.text = "Welcome";
    };
  };
}
