{
  outputs = _: {
    clan.modules.motd = ./motd.nix;
  };
}
