using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Verification;

/// <summary>config.rserver-options: Workbench refuses to start on an rserver.conf option it does not know.</summary>
public class RServerOptionTests
{
    private static CheckResult[] Check(string rserverConf)
    {
        using var dir = new TempDirectory();
        dir.Write("rserver.conf", rserverConf);
        return ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = dir.Path, Check = ["config.rserver-options"], Machine = new TestMachine() }, new RecordingHost()).ToArray();
    }

    [Fact]
    public void TheDataFileNamesItsSourcesAndHoldsTheOpenSourceListAndWorkbenchOptions()
    {
        Assert.Equal(RServerOptionOrigin.OpenSource, RServerOptions.Find("www-port")!.Origin);
        Assert.True(RServerOptions.Find("server-add-header")!.MultiValued);
        Assert.Equal(RServerOptionOrigin.Workbench, RServerOptions.Find("load-balancing-enabled")!.Origin);
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "WorkbenchAdmin.Core", "Configuration", "Data", "rserver-options.txt"));
        Assert.Contains("server-options.json at commit 0536be6403b69fbce5aa759139748287d6464066", text);
        // Every multitoken option of the data is one the reader adds up.
        Assert.Equal(RServerOptions.All.Values.Where(o => o.MultiValued).Select(o => o.Name).Order(), ConfigFileKinds.RServerMultiValued.Order());
    }

    [Fact]
    public void ATypoIsAWarnNamingTheNearestOption()
    {
        var r = Assert.Single(Check("load-balancing-enabled=1\nwww-prot=8787\n"));
        Assert.Equal(CheckStatus.Warn, r.Status);
        Assert.Contains("www-prot", r.Found);
        Assert.Contains(":2)", r.Found);
        Assert.Contains("did you mean www-port?", r.Found);
        Assert.Contains("www-port", r.Fix);
    }

    [Fact]
    public void AnUnknownOptionIsNeverAFailAndASectionIsAPrefix()
    {
        var results = Check("some-future-workbench-option=1\n[www]\nport=8787\n");
        Assert.All(results, r => Assert.Equal(CheckStatus.Warn, r.Status));
        Assert.Contains(results, r => r.Found.Contains("some-future-workbench-option") && !r.Found.Contains("did you mean"));
        Assert.Contains(results, r => r.Found.Contains("www.port"));
    }

    [Fact]
    public void DocumentedOptionsPass()
    {
        var r = Assert.Single(Check("www-port=8787\nserver-add-header=A: 1\nserver-add-header=B: 2\nload-balancing-enabled=1\n"));
        Assert.Equal(CheckStatus.Pass, r.Status);
        Assert.Contains("4 options", r.Found);
    }

    [Theory]
    [InlineData("www-prot", "www-port")]
    [InlineData("load-balancing-enable", "load-balancing-enabled")]
    [InlineData("server-shared-storage-pth", "server-shared-storage-path")]
    [InlineData("completely-different-thing", null)]
    public void NearestIsTheClosestKnownOption(string typo, string? nearest) => Assert.Equal(nearest, RServerOptions.Nearest(typo));
}
