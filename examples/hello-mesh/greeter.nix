# A role split out into its own file, merged through `imports`.
{
  roles.greeter = {
    description = "Prints a greeting for every peer";
    perInstance =
      { instanceName, roles, ... }:
      {
        nixosModule.environment.etc."greeting".text =
          "Hello from ${instanceName} to ${toString (builtins.attrNames (roles.peer.machines or { }))}";
      };
  };
}
