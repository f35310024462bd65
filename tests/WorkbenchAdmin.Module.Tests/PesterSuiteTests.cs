using System.Text.RegularExpressions;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Module.Tests;

/// <summary>The shipped Pester suites agree with the module (they cannot run here: no pwsh).</summary>
public class PesterSuiteTests(ModuleFixture module) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void TheClusterSuiteHasADescribeForEveryCheckArea()
    {
        var suite = File.ReadAllText(Path.Combine(module.ModuleDir, "tests", "WorkbenchAdmin.Cluster.Tests.ps1"));
        var covered = Regex.Matches(suite, @"Where-Object Area -eq '([a-z]+)'").Select(m => m.Groups[1].Value).ToHashSet();
        var tagged = Regex.Matches(suite, @"-Tag 'Cluster', '([a-z]+)'").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.All(CheckCatalog.All.Select(c => c.Area).Distinct(), area =>
        {
            Assert.Contains(area, covered);
            Assert.Contains(area, tagged);
        });
    }

    [Fact]
    public void CheckIdsAreUniqueAndCompletable()
    {
        Assert.Equal(CheckCatalog.All.Count, CheckCatalog.All.Select(c => c.Id).Distinct().Count());
        Assert.Equal(["cluster.clock", "cluster.config-identical"], CheckCatalog.Complete("cluster.c").Order());
        var check = module.Metadata.Cmdlets.Single(c => c.Name == "Test-WbCluster").Parameters.Single(p => p.Name == "Check");
        Assert.Equal("WorkbenchAdmin.Completion.CheckIdCompleter", check.CompleterType?.FullName);
    }

    [Fact]
    public void PesterFilesOnlyUseCmdletsTheModuleExports()
    {
        var exported = module.ManifestArray("CmdletsToExport").ToHashSet();
        foreach (var file in Directory.GetFiles(Path.Combine(module.ModuleDir, "tests"), "*.ps1").Concat(Directory.GetFiles(Path.Combine(module.Root, "examples"), "*.ps1")))
        {
            var used = Regex.Matches(File.ReadAllText(file), @"\b([A-Z][a-z]+-Wb[A-Za-z]+)\b").Select(m => m.Groups[1].Value).Distinct();
            Assert.All(used, name => Assert.True(exported.Contains(name), $"{Path.GetFileName(file)} uses {name}, which the module does not export"));
        }
    }
}
