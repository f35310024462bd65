using WorkbenchAdmin.Core.Commands.Balancer;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Commands;

public class BalancerOperationsTests
{
    /// <summary>The machine the operations see: its host name stands in for an unset www-host-name.</summary>
    private static readonly TestMachine Machine = new() { Name = "testhost" };

    private static BalancerSetting Get(string root)
    {
        var host = new RecordingHost();
        BalancerOperations.Get(new GetBalancerRequest { ConfigRoot = root, Machine = Machine }, host);
        return Assert.Single(host.ObjectsOf<BalancerSetting>());
    }

    [Fact]
    public void AFreshNodeIsDisabledWithTheDefaultMethod()
    {
        using var dir = new TempDirectory();
        var s = Get(dir.Path);
        Assert.Equal(("sessions", true, LoadBalancingState.Disabled, false), (s.Method, s.MethodIsDefault, s.LoadBalancing, s.Enabled));
        Assert.Equal("testhost:8787", s.EffectiveWwwHostName);
        Assert.Null(s.WwwHostName);
    }

    [Fact]
    public void TheLegacyFileOnlyWayIsFlagged()
    {
        using var dir = new TempDirectory();
        dir.Write("load-balancer", "[config]\nbalancer=user-hash\n[nodes]\nn1\n");
        var host = new RecordingHost();
        BalancerOperations.Get(new GetBalancerRequest { ConfigRoot = dir.Path, Machine = Machine }, host);
        var s = host.ObjectsOf<BalancerSetting>().Single();
        Assert.Equal((LoadBalancingState.LegacyFileOnly, true, "user-hash"), (s.LoadBalancing, s.Enabled, s.Method));
        Assert.Contains(host.Warnings, w => w.Contains("legacy") && w.Contains("load-balancing-enabled=1"));
        Assert.Contains(host.Warnings, w => w.Contains("[nodes]"));
        Assert.Equal(s.Warnings, host.Warnings);
    }

    [Fact]
    public void CustomMethodReportsItsScript()
    {
        using var dir = new TempDirectory();
        var script = dir.Write("balancer.sh", "#!/bin/sh\necho x\n");
        dir.Write("load-balancer", $"balancer=custom\ncustom-balancer-script={script}\n");
        dir.Write("rserver.conf", "load-balancing-enabled=1\nwww-port=8080\n");
        var s = Get(dir.Path);
        Assert.Equal((script, true, false), (s.ScriptPath, s.ScriptExists, s.ScriptExecutable));
        Assert.Contains(s.Warnings, w => w.Contains("not executable"));
        Assert.Equal("testhost:8080", s.EffectiveWwwHostName);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assert.True(Get(dir.Path).ScriptExecutable);
    }

    [Fact]
    public void SetWritesBothFilesAndPassThruReturnsTheNewSetting()
    {
        using var dir = new TempDirectory();
        dir.Write("rserver.conf", "# keep me\nload-balancing-enabled=0\n");
        var host = new RecordingHost();
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path, Method = "User-Hash", WwwHostName = "node1.example.com:8787", PassThru = true }, host);
        Assert.Equal("balancer=user-hash\nwww-host-name=node1.example.com:8787\n", File.ReadAllText(dir.File("load-balancer")));
        Assert.Equal("# keep me\nload-balancing-enabled=1\n", File.ReadAllText(dir.File("rserver.conf")));
        var s = Assert.Single(host.ObjectsOf<BalancerSetting>());
        Assert.Equal(("user-hash", LoadBalancingState.Enabled, "node1.example.com:8787"), (s.Method, s.LoadBalancing, s.EffectiveWwwHostName));
        Assert.Equal(2, host.ShouldProcessCalls.Count);
    }

    [Fact]
    public void SetMigratesAConfigSectionToTheCurrentFormKeepingItsStyle()
    {
        // [config] is the pre-2021.09 form (issue 21): its keys move before any section, in the file's own style.
        using var dir = new TempDirectory();
        dir.Write("load-balancer", "# cluster\n[config]\nbalancer = sessions\n");
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path, Method = "system-load", WwwHostName = "10.0.0.5" }, new RecordingHost());
        Assert.Equal("# cluster\nbalancer = system-load\nwww-host-name = 10.0.0.5\n", File.ReadAllText(dir.File("load-balancer")));
    }

    [Fact]
    public void SetUnderWhatIfWritesNothingAndReturnsNothing()
    {
        using var dir = new TempDirectory();
        dir.Write("rserver.conf", "load-balancing-enabled=0\n");
        var host = new RecordingHost(confirm: false);
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path, Method = "custom", PassThru = true }, host);
        Assert.Equal("load-balancing-enabled=0\n", File.ReadAllText(dir.File("rserver.conf")));
        Assert.False(File.Exists(dir.File("load-balancer")));
        Assert.Empty(host.Objects);
        Assert.Contains(host.ShouldProcessCalls, c => c.Target == dir.File("load-balancer") && c.Action == "Set balancer = custom");
        Assert.Contains(host.ShouldProcessCalls, c => c.Target == dir.File("rserver.conf") && c.Action == "Set load-balancing-enabled = 1");
    }

    [Fact]
    public void SetWithNothingToChangeAsksNothing()
    {
        using var dir = new TempDirectory();
        dir.Write("rserver.conf", "load-balancing-enabled=1\n");
        dir.Write("load-balancer", "balancer=sessions\n");
        var host = new RecordingHost();
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path, Method = "sessions", PassThru = true }, host);
        Assert.Empty(host.ShouldProcessCalls);
        Assert.Single(host.ObjectsOf<BalancerSetting>());
    }

    [Theory]
    [InlineData("round-robin", null, "InvalidBalancingMethod", "-Method 'round-robin'")]
    [InlineData(null, "bad host name", "InvalidWwwHostName", "-WwwHostName 'bad host name'")]
    [InlineData(null, "node1:99999", "InvalidWwwHostName", "-WwwHostName 'node1:99999'")]
    [InlineData(null, "-leading", "InvalidWwwHostName", "-WwwHostName")]
    public void BadParametersAreInvalidArgumentNamingParameterAndValue(string? method, string? hostName, string id, string text)
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<WbException>(() =>
            BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path, Method = method, WwwHostName = hostName }, new RecordingHost()));
        Assert.Equal((id, WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains(text, e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData("node1.example.com")]
    [InlineData("node1:8787")]
    [InlineData("10.0.0.5:443")]
    [InlineData("[fe80::1]:8787")]
    public void AcceptedHostNames(string name) => Assert.Equal(name, BalancerOperations.ValidateHostName(name));

    [Fact]
    public void ScriptPathAndUseIpAddressAreStoredInTheModulesFileNotWorkbenchs()
    {
        using var dir = new TempDirectory();
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path, Method = "custom", ScriptPath = "/opt/balance.py", UseIPAddress = true }, new RecordingHost());
        var root = new ConfigRoot(dir.Path);
        var lb = LoadBalancerConfig.Load(root);
        Assert.Equal("custom", lb.Method);
        Assert.False(lb.HasLegacyModuleKeys);
        Assert.DoesNotContain("custom-balancer-script", File.ReadAllText(root.PathOf("load-balancer")));
        Assert.DoesNotContain("balancer-use-ip-address", File.ReadAllText(root.PathOf("load-balancer")));
        Assert.Equal(("/opt/balance.py", true), ModuleSettings.Load(root).Effective(lb));
        var setting = BalancerOperations.Read(root);
        Assert.Equal(("/opt/balance.py", true), (setting.ScriptPath, setting.UseIPAddress));
        var e = Assert.Throws<WbException>(() =>
            BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path, ScriptPath = "relative.sh" }, new RecordingHost()));
        Assert.Equal("InvalidScriptPath", e.ErrorId);
    }

    [Fact]
    public void SetWbBalancerMovesLegacyKeysOutOfTheLoadBalancerFile()
    {
        using var dir = new TempDirectory();
        var root = new ConfigRoot(dir.Path);
        File.WriteAllText(root.PathOf("load-balancer"), "# ours\nbalancer=custom\ncustom-balancer-script=/opt/old.sh # kept\nbalancer-use-ip-address=1\nwww-host-name=n1:8787\n");
        var before = BalancerOperations.Read(root);
        Assert.Contains(before.Warnings, w => w.Contains("custom-balancer-script and balancer-use-ip-address") && w.Contains("Set-WbBalancer moves them"));
        Assert.Equal(("/opt/old.sh", true), (before.ScriptPath, before.UseIPAddress));

        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path }, new RecordingHost());

        Assert.Equal("# ours\nbalancer=custom\nwww-host-name=n1:8787\n", File.ReadAllText(root.PathOf("load-balancer")));
        var after = BalancerOperations.Read(root);
        Assert.Equal(("/opt/old.sh", true), (after.ScriptPath, after.UseIPAddress));
        Assert.DoesNotContain(after.Warnings, w => w.Contains("custom-balancer-script"));
    }

    [Fact]
    public void ALegacyKeyNeverOverwritesTheModulesOwnValue()
    {
        using var dir = new TempDirectory();
        var root = new ConfigRoot(dir.Path);
        File.WriteAllText(root.PathOf("load-balancer"), "custom-balancer-script=/opt/old.sh\n");
        File.WriteAllText(root.PathOf(ModuleSettings.FileName), "custom-balancer-script=/opt/new.sh\n");
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path }, new RecordingHost());
        Assert.Equal("custom-balancer-script=/opt/new.sh\n", File.ReadAllText(root.PathOf(ModuleSettings.FileName)));
        Assert.DoesNotContain("custom-balancer-script", File.ReadAllText(root.PathOf("load-balancer")));
    }

    [Fact]
    public void WhatIfMovesNothing()
    {
        using var dir = new TempDirectory();
        var root = new ConfigRoot(dir.Path);
        File.WriteAllText(root.PathOf("load-balancer"), "custom-balancer-script=/opt/old.sh\n");
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path }, new RecordingHost(confirm: false));
        Assert.Equal("custom-balancer-script=/opt/old.sh\n", File.ReadAllText(root.PathOf("load-balancer")));
        Assert.False(File.Exists(root.PathOf(ModuleSettings.FileName)));
    }
}
