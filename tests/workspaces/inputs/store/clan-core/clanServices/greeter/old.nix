throw "old-greeter moved: use greeter"
