using System.Reflection;
using System.Xml.Linq;
using WorkbenchAdmin.ModuleTools;

namespace WorkbenchAdmin.Module.Tests;

/// <summary>The files that ship beside the dll agree with the compiled cmdlets.</summary>
public class ManifestFormatHelpTests(ModuleFixture module) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void ManifestExportsExactlyTheCompiledCmdlets()
    {
        var exported = module.ManifestArray("CmdletsToExport").Order(StringComparer.Ordinal);
        Assert.Equal(module.Metadata.Cmdlets.Select(c => c.Name).Order(StringComparer.Ordinal), exported);
    }

    [Fact]
    public void ManifestDescribesACoreModuleForPowerShell74()
    {
        Assert.Equal("module/WorkbenchAdmin.psm1", module.ManifestValue("RootModule"));
        Assert.Equal("7.4", module.ManifestValue("PowerShellVersion"));
        Assert.Equal(["Core"], module.ManifestArray("CompatiblePSEditions"));
        Assert.True(Guid.TryParse(module.ManifestValue("GUID"), out _));
        Assert.False(string.IsNullOrWhiteSpace(module.ManifestValue("Description")));
        Assert.Empty(module.ManifestArray("FunctionsToExport"));
        Assert.Empty(module.ManifestArray("AliasesToExport"));
        Assert.NotEmpty(module.ManifestArray("Tags"));
        var version = module.ManifestValue("ModuleVersion");
        var assemblyVersion = module.Metadata.CmdletAssembly.GetName().Version!;
        Assert.Equal($"{assemblyVersion.Major}.{assemblyVersion.Minor}.{assemblyVersion.Build}", version);
    }

    [Fact]
    public void FormatFilesInTheManifestExist()
    {
        var formats = module.ManifestArray("FormatsToProcess");
        Assert.NotEmpty(formats);
        Assert.All(formats, f => Assert.True(File.Exists(Path.Combine(module.Root, f)), $"{f} does not exist beside the manifest"));
    }

    private IEnumerable<XElement> Views() =>
        module.ManifestArray("FormatsToProcess").SelectMany(f => XDocument.Load(Path.Combine(module.Root, f)).Descendants("View"));

    [Fact]
    public void EveryFormatViewNamesARealTypeAndRealProperties()
    {
        Assert.All(Views(), view =>
        {
            var typeName = view.Element("ViewSelectedBy")!.Element("TypeName")!.Value;
            var type = module.Metadata.FindType(typeName);
            Assert.True(type is not null, $"view {view.Element("Name")?.Value}: type {typeName} does not exist");
            var properties = type!.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToHashSet();
            var scripted = view.Descendants("ScriptBlock")
                .SelectMany(b => System.Text.RegularExpressions.Regex.Matches(b.Value, @"\$_\.(\w+)").Select(m => m.Groups[1].Value));
            foreach (var name in view.Descendants("PropertyName").Select(p => p.Value).Concat(scripted))
                Assert.True(properties.Contains(name), $"view {view.Element("Name")?.Value}: {typeName} has no property {name}");
            var headers = view.Descendants("TableColumnHeader").Count();
            var columns = view.Descendants("TableColumnItem").Count();
            Assert.Equal(headers, columns);
        });
    }

    [Fact]
    public void EveryOutputTypeHasADefaultTableView()
    {
        var tableTypes = Views().Where(v => v.Element("TableControl") is not null)
            .Select(v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value).ToHashSet();
        // Strings and "no output" need no view; every type of the module does.
        Assert.All(module.Metadata.Cmdlets.SelectMany(c => c.OutputTypes).Distinct().Where(t => t.Namespace != "System"),
            t => Assert.True(tableTypes.Contains(t.FullName!), $"{t.FullName} has no table view"));
    }

    [Fact]
    public void HelpSourcesCoverEveryCmdletAndParameter()
    {
        var sources = HelpSource.LoadDirectory(Path.Combine(module.ModuleDir, "help"));
        Assert.Empty(MamlWriter.Check(module.Metadata.Cmdlets, sources));
    }

    [Fact]
    public void TheShippedMamlHelpIsGeneratedFromTheCurrentSources()
    {
        var sources = HelpSource.LoadDirectory(Path.Combine(module.ModuleDir, "help"));
        var expected = MamlWriter.Write(module.Metadata.Cmdlets, sources);
        var shipped = Path.Combine(module.ModuleDir, "en-US", "WorkbenchAdmin.dll-Help.xml");
        Assert.True(File.Exists(shipped), "module/en-US/WorkbenchAdmin.dll-Help.xml is missing: run ./build.ps1 -Task Help");
        Assert.True(expected == File.ReadAllText(shipped), "module/en-US/WorkbenchAdmin.dll-Help.xml is stale: run ./build.ps1 -Task Help");
    }

    [Fact]
    public void ShippedMamlNamesEveryCmdletParameterAndExample()
    {
        XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        XNamespace maml = "http://schemas.microsoft.com/maml/2004/10";
        var doc = XDocument.Load(Path.Combine(module.ModuleDir, "en-US", "WorkbenchAdmin.dll-Help.xml"));
        var commands = doc.Descendants(command + "command").ToDictionary(c => c.Element(command + "details")!.Element(command + "name")!.Value);
        Assert.All(module.Metadata.Cmdlets, c =>
        {
            Assert.True(commands.TryGetValue(c.Name, out var help), $"no help for {c.Name}");
            var documented = help!.Element(command + "parameters")!.Elements(command + "parameter").Select(p => p.Element(maml + "name")!.Value).ToHashSet();
            Assert.All(c.Parameters, p => Assert.Contains(p.Name, documented));
            Assert.NotEmpty(help.Descendants(command + "example"));
        });
    }
}

public class AboutTopicTests(ModuleFixture module) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void TheAboutTopicNamesEveryExportedCmdlet()
    {
        var path = Path.Combine(module.ModuleDir, "en-US", "about_WorkbenchAdmin.help.txt");
        Assert.True(File.Exists(path), "module/en-US/about_WorkbenchAdmin.help.txt is missing");
        var text = File.ReadAllText(path);
        Assert.StartsWith("TOPIC\n    about_WorkbenchAdmin", text);
        Assert.All(module.ManifestArray("CmdletsToExport"), name => Assert.Contains(name, text));
    }

    [Fact]
    public void ThePackagedModuleCarriesALicenseAndReleaseNotes()
    {
        Assert.True(File.Exists(Path.Combine(module.Root, "LICENSE")));
        Assert.Contains($"## {module.ManifestValue("ModuleVersion")}", File.ReadAllText(Path.Combine(module.Root, "CHANGELOG.md")));
        Assert.Contains("ReleaseNotes", module.ManifestText);
        Assert.Contains("LicenseUri", module.ManifestText);
    }
}
