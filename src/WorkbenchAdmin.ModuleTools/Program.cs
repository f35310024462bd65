using WorkbenchAdmin.ModuleTools;

// Usage: ModuleTools help --assembly <WorkbenchAdmin.dll> --source <module/help> --out <en-US/WorkbenchAdmin.dll-Help.xml> [--check]
// --check compares instead of writing and fails when the committed help is stale.
var options = new Dictionary<string, string>();
var flags = new HashSet<string>();
for (var i = 1; i < args.Length; i++)
{
    if (args[i] == "--check") flags.Add("check");
    else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length) options[args[i][2..]] = args[++i];
}
if (args.Length == 0 || args[0] != "help" || !options.ContainsKey("assembly") || !options.ContainsKey("source") || !options.ContainsKey("out"))
{
    Console.Error.WriteLine("usage: ModuleTools help --assembly <WorkbenchAdmin.dll> --source <module/help> --out <file> [--check]");
    return 2;
}

using var module = ModuleMetadata.Load(options["assembly"]);
var sources = HelpSource.LoadDirectory(options["source"]);
var problems = MamlWriter.Check(module.Cmdlets, sources);
foreach (var p in problems) Console.Error.WriteLine("help: " + p);
if (problems.Count > 0) return 1;

var maml = MamlWriter.Write(module.Cmdlets, sources);
if (flags.Contains("check"))
{
    var current = File.Exists(options["out"]) ? File.ReadAllText(options["out"]) : "";
    if (current != maml)
    {
        Console.Error.WriteLine($"help: {options["out"]} is out of date; run ./build.ps1 -Task Help (or dotnet run --project src/WorkbenchAdmin.ModuleTools -- help ...)");
        return 1;
    }
    return 0;
}
File.WriteAllText(options["out"], maml);
Console.WriteLine($"wrote {options["out"]} ({module.Cmdlets.Count} cmdlets)");
return 0;
