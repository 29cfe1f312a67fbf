{
  inputs = {
    clan-core.url = "github:clan-lol/clan-core";
    my-org.url = "github:acme/my-org-modules";
    local-mods.url = "path:../local-mods";
    nixpkgs.follows = "clan-core/nixpkgs";
  };

  outputs =
    { self, clan-core, ... }@inputs:
    let
      clan = clan-core.lib.clan {
        inherit self;
        specialArgs = { inherit inputs; };
        imports = [ ./clan.nix ];
      };
    in
    {
      inherit (clan.config) nixosConfigurations clanInternals;
      clan = clan.config;
    };
}
