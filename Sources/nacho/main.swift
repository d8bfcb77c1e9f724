import NachoCLI

await Nacho.main()
