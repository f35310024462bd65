using System.Text.RegularExpressions;
using WorkbenchAdmin.ModuleTools;

namespace WorkbenchAdmin.Module.Tests;

/// <summary>The compiled module read once per test class: cmdlet metadata, the manifest, the format file, the help.</summary>
public sealed partial class ModuleFixture : IDisposable
{
    public ModuleFixture()
    {
        Root = FindRoot();
        Metadata = ModuleMetadata.Load(Path.Combine(AppContext.BaseDirectory, "WorkbenchAdmin.dll"));
        ManifestText = File.ReadAllText(Path.Combine(Root, "WorkbenchAdmin.psd1"));
    }

    public string Root { get; }
    public ModuleMetadata Metadata { get; }
    public string ManifestText { get; }
    public string ModuleDir => Path.Combine(Root, "module");

    /// <summary>The strings of a manifest array such as <c>CmdletsToExport = @( 'a' 'b' )</c>.</summary>
    public IReadOnlyList<string> ManifestArray(string key)
    {
        var m = Regex.Match(ManifestText, key + @"\s*=\s*@\((?<body>[^)]*)\)", RegexOptions.Singleline);
        Assert.True(m.Success, $"{key} is not an @( ) array in WorkbenchAdmin.psd1");
        return QuotedString().Matches(m.Groups["body"].Value).Select(x => x.Groups[1].Value).ToList();
    }

    public string? ManifestValue(string key)
    {
        var m = Regex.Match(ManifestText, @"(?m)^\s*" + key + @"\s*=\s*'([^']*)'");
        return m.Success ? m.Groups[1].Value : null;
    }

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex QuotedString();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "WorkbenchAdmin.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("WorkbenchAdmin.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose() => Metadata.Dispose();
}
