using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Commands.Balancer;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Commands;

/// <summary>Install-WbBalancer, Get/Set-WbBalancerPolicy on real files; the program itself is a stand-in file here (Pester installs the real one).</summary>
public sealed class BalancerPolicyOperationsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _root;
    private readonly string _program;
    private readonly string _source;

    public BalancerPolicyOperationsTests()
    {
        _root = Directory.CreateDirectory(_dir.File("etc")).FullName;
        _program = Path.Combine(Directory.CreateDirectory(_dir.File("bin")).FullName, "rserver-balancer");
        // Stands in for the packaged program: what marks it as ours is the tag it prints in its messages.
        _source = _dir.WriteBytes("wbadmin-balancer", [.. "\u007fELF "u8, .. System.Text.Encoding.Unicode.GetBytes("wbadmin-balancer"), 1, 2, 3]);
    }

    public void Dispose() => _dir.Dispose();

    private InstallBalancerRequest Install(string? method = "bounded-hash") =>
        new() { ConfigRoot = _root, ProgramPath = _program, ProgramSource = _source, Method = method, MaxSessionsPerNode = 20, StateDirectory = _dir.File("state"), PassThru = true };

    [Fact]
    public void WhatIfListsEveryStepAndWritesNothing()
    {
        var host = new RecordingHost(confirm: false);
        BalancerPolicyOperations.Install(Install(), host);
        Assert.Empty(Directory.GetFiles(_root));
        Assert.False(File.Exists(_program));
        var targets = host.ShouldProcessCalls.Select(c => c.Target).ToList();
        Assert.Contains(Path.Combine(_root, ModuleSettings.FileName), targets);
        Assert.Contains(_program, targets);
        Assert.Contains(_program + ".conf", targets);
        Assert.Empty(host.Objects);
    }

    [Fact]
    public void InstallPutsTheProgramThePolicyAndThePointerInPlaceThenSetsCustom()
    {
        var host = new RecordingHost();
        BalancerPolicyOperations.Install(Install(), host);
        Assert.Equal(File.ReadAllBytes(_source), File.ReadAllBytes(_program));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                     UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(_program));
        Assert.Equal(_root, ProgramSettings.ConfigRootOf(_program).Path);
        var policy = Assert.IsType<BalancerPolicy>(Assert.Single(host.Objects));
        Assert.Equal(("bounded-hash", 20, true, true), (policy.Method, policy.MaxSessionsPerNode!.Value, policy.ProgramInstalled, policy.BalancerIsCustom));
        Assert.Equal("custom", LoadBalancerConfig.Load(new ConfigRoot(_root)).Method);
        Assert.Equal(_program, ModuleSettings.Load(new ConfigRoot(_root)).CustomScriptPath);
        // The order that keeps Workbench from running a program that is not ready: load-balancer is written last.
        var targets = host.ShouldProcessCalls.Select(c => Path.GetFileName(c.Target)).ToList();
        Assert.True(targets.IndexOf("load-balancer") > targets.IndexOf("rserver-balancer.conf"), string.Join(", ", targets));
    }

    [Fact]
    public void ReplacingTheProgramUnderARunningDecisionServiceSaysToRestartIt()
    {
        var socket = _dir.File("run/balancer.sock");
        BalancerPolicyOperations.Install(Install() with { ServiceSocket = socket }, new RecordingHost());
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        using var service = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        service.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
        var unchanged = new RecordingHost();
        BalancerPolicyOperations.Install(Install(), unchanged);
        Assert.Empty(unchanged.Warnings); // the same program: nothing to restart

        File.AppendAllText(_source, "a newer build");
        var updated = new RecordingHost();
        BalancerPolicyOperations.Install(Install(), updated);
        Assert.Contains(updated.Warnings, w => w.Contains($"A decision service answers at {socket}") && w.Contains("systemctl restart workbenchadmin-balancer"));
    }

    [Fact]
    public void ASocketWhereNoServiceAnswersIsShownAndWarnedAbout()
    {
        var socket = _dir.File("run/balancer.sock");
        BalancerPolicyOperations.Install(Install() with { ServiceSocket = socket }, new RecordingHost());
        var none = new RecordingHost();
        BalancerPolicyOperations.Get(new BalancerPolicyRequest { ConfigRoot = _root, ProgramPath = _program }, none);
        Assert.Null(Assert.IsType<BalancerPolicy>(Assert.Single(none.Objects)).ServiceAnswering);
        Assert.Empty(none.Warnings);

        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        using var bound = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        bound.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socket)); // bound, never listening: as a stale socket
        var stale = new RecordingHost();
        BalancerPolicyOperations.Get(new BalancerPolicyRequest { ConfigRoot = _root, ProgramPath = _program }, stale);
        Assert.False(Assert.IsType<BalancerPolicy>(Assert.Single(stale.Objects)).ServiceAnswering);
        Assert.Contains(stale.Warnings, w => w.Contains($"Something is at {socket} but no decision service answers there"));
    }

    [Fact]
    public void AnAdminsOwnProgramIsKeptAndInstallingTwiceChangesNothing()
    {
        File.WriteAllText(_program, "#!/bin/sh\necho mine\n");
        BalancerPolicyOperations.Install(Install(), new RecordingHost());
        Assert.Equal("#!/bin/sh\necho mine\n", File.ReadAllText(_program + BalancerPolicyOperations.BackupSuffix));
        var again = new RecordingHost();
        BalancerPolicyOperations.Install(Install(), again);
        Assert.DoesNotContain(again.ShouldProcessCalls, c => c.Target == _program);
    }

    [Fact]
    public void SetChangesOnlyWhatItIsGivenAndKeepsOtherLines()
    {
        File.WriteAllText(Path.Combine(_root, ModuleSettings.FileName), "# mine\n[balancer]\nmethod=user-hash # hashing\n");
        BalancerPolicyOperations.Set(new BalancerPolicyRequest { ConfigRoot = _root, Sticky = true, PolicyOptionValues = new Dictionary<string, object?> { ["BalanceFactor"] = 1.5 } }, new RecordingHost());
        var text = File.ReadAllText(Path.Combine(_root, ModuleSettings.FileName));
        Assert.StartsWith("# mine\n[balancer]\nmethod=user-hash # hashing\n", text);
        var policy = BalancingPolicies.LoadSettings(new ConfigRoot(_root)).Balancer;
        Assert.Equal(("user-hash", true, 1.5), (policy.Method, policy.Sticky, (double)policy.Options["BalanceFactor"]!));
    }

    [Fact]
    public void StoreMaxAgeIsSetAndReadBackAndItsDefaultIsASecond()
    {
        Assert.Equal(1000, BalancingPolicies.LoadSettings(new ConfigRoot(_root)).Balancer.StoreMaxAgeMs);
        BalancerPolicyOperations.Set(new BalancerPolicyRequest { ConfigRoot = _root, StoreMaxAgeMs = 0 }, new RecordingHost());
        Assert.Contains("store-max-age-ms=0\n", File.ReadAllText(Path.Combine(_root, ModuleSettings.FileName)));
        Assert.Equal(0, BalancingPolicies.LoadSettings(new ConfigRoot(_root)).Balancer.StoreMaxAgeMs);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(60_001)]
    public void ABadStoreMaxAgeIsRefusedNamingTheParameterAndNothingIsWritten(int ms)
    {
        var e = Assert.Throws<WbException>(() => BalancerPolicyOperations.Set(new BalancerPolicyRequest { ConfigRoot = _root, StoreMaxAgeMs = ms }, new RecordingHost()));
        Assert.Equal(("InvalidStoreMaxAge", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains($"-StoreMaxAgeMs {ms} must be from 0", e.Message);
        Assert.Empty(Directory.GetFiles(_root));
    }

    [Fact]
    public void ABadStoreMaxAgeInTheFileNamesTheFileAndLine()
    {
        File.WriteAllText(Path.Combine(_root, ModuleSettings.FileName), "[balancer]\nstore-max-age-ms=soon\n");
        var e = Assert.Throws<ConfigFormatException>(() => BalancingPolicies.LoadSettings(new ConfigRoot(_root)));
        Assert.Contains($"{ModuleSettings.FileName}:2", e.Message);
        Assert.Contains("store-max-age-ms", e.Message);
    }

    [Theory]
    [InlineData("custom", null, null, null, "InvalidBalancingMethod", "custom is the program itself")]
    [InlineData("round-robin", null, null, null, "InvalidBalancingMethod", "use one of sessions")]
    [InlineData(null, 0, null, null, "InvalidMaxSessionsPerNode", "at least 1")]
    [InlineData(null, null, 1.0, null, "InvalidBalanceFactor", "above 1")]
    [InlineData(null, null, null, 10, "InvalidDeadline", "from 50 to 60000")]
    public void BadValuesAreRefusedNamingTheParameterAndNothingIsWritten(string? method, int? max, double? factor, int? deadline, string id, string text)
    {
        var e = Assert.Throws<WbException>(() => BalancerPolicyOperations.Set(
            new BalancerPolicyRequest { ConfigRoot = _root, Method = method, MaxSessionsPerNode = max, PolicyOptionValues = new Dictionary<string, object?> { ["BalanceFactor"] = factor }, DeadlineMs = deadline }, new RecordingHost()));
        Assert.Equal((id, WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains(text, e.Message);
        Assert.Empty(Directory.GetFiles(_root));
    }

    [Fact]
    public void AnOptionTheProgramDoesNotReadIsRefusedNamingTheParameterAndNothingIsWritten()
    {
        var e = Assert.Throws<WbException>(() => BalancerPolicyOperations.Set(
            new BalancerPolicyRequest { ConfigRoot = _root, PolicyOptionValues = new Dictionary<string, object?> { ["TimeoutSec"] = 5.0 } }, new RecordingHost()));
        Assert.Equal(("NotAProgramSetting", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.StartsWith("-TimeoutSec is not a setting of the balancer program", e.Message);
        Assert.Empty(Directory.GetFiles(_root));
    }

    [Theory]
    [InlineData("method=custom", "custom would run this program itself")]
    [InlineData("balance-factor=0.5", "above 1")]
    [InlineData("deadline-ms=abc", "whole number")]
    [InlineData("status-url=ftp://x/", "http://")]
    [InlineData("sticky=maybe", "1 or 0")]
    public void AHandEditedPolicyWithABadValueNamesTheFileAndLine(string line, string text)
    {
        File.WriteAllText(Path.Combine(_root, ModuleSettings.FileName), $"[balancer]\n{line}\n");
        var e = Assert.Throws<ConfigFormatException>(() => BalancingPolicies.LoadSettings(new ConfigRoot(_root)));
        Assert.Equal(2, e.LineNumber);
        Assert.Contains($"{ModuleSettings.FileName}:2:", e.Message);
        Assert.Contains(text, e.Message);
    }

    [Theory]
    [InlineData("www-port=8080\n", "http://127.0.0.1:8080/load-balancer/status")] // every address: read on loopback, never localhost's ::1
    [InlineData("www-address=0.0.0.0\nwww-port=8080\n", "http://127.0.0.1:8080/load-balancer/status")]
    [InlineData("www-address=10.1.2.3\nwww-port=8080\n", "http://10.1.2.3:8080/load-balancer/status")] // rserver owns no port on loopback
    [InlineData("www-address=::\n", "http://[::1]:8787/load-balancer/status")]
    [InlineData("www-address=fd00::5\nssl-enabled=1\n", "https://[fd00::5]:443/load-balancer/status")]
    public void TheDefaultStatusPageIsThisNodesOwnWhereRserverListens(string rserver, string expected)
    {
        File.WriteAllText(Path.Combine(_root, "rserver.conf"), rserver);
        Assert.Equal(expected, ModuleSettings.Load(new ConfigRoot(_root)).Balancer.StatusUri);
    }

    [Fact]
    public void SetRewritesAPolicyFileItsGroupCouldWriteSoThatOnlyRootCan()
    {
        var path = Path.Combine(_root, ModuleSettings.FileName);
        File.WriteAllText(path, "[balancer]\nmethod=sessions\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_000); // 660: a 600 file loses group write, keeps no more
        var host = new RecordingHost();
        BalancerPolicyOperations.Set(new BalancerPolicyRequest { ConfigRoot = _root, Method = "sessions" }, host); // nothing else to change
        Assert.Equal((UnixFileMode)0b110_100_000, File.GetUnixFileMode(path));
        Assert.Contains(host.ShouldProcessCalls, c => c.Action.Contains("alone") && c.Action.Contains("writable by its group"));
        Assert.Equal("[balancer]\nmethod=sessions\n", File.ReadAllText(path));
        Assert.Null(ProgramSettings.LoadPolicy(new ConfigRoot(_root)).Refused);
    }

    [Fact]
    public void GetShowsARefusedPolicyAsTheProgramAppliesItWithAWarning()
    {
        var path = Path.Combine(_root, ModuleSettings.FileName);
        File.WriteAllText(path, "[balancer]\nmethod=bounded-hash\nmax-sessions-per-node=30\ndeadline-ms=20\n");
        var host = new RecordingHost();
        BalancerPolicyOperations.Get(new BalancerPolicyRequest { ConfigRoot = _root, ProgramPath = _program }, host);
        var policy = Assert.IsType<BalancerPolicy>(Assert.Single(host.Objects));
        Assert.Equal(("consistent-hash", 30, false), (policy.Method, policy.MaxSessionsPerNode!.Value, policy.RefusesSessions));
        Assert.Contains($"{ModuleSettings.FileName}:4:", policy.Refused);
        Assert.Contains("max-sessions-per-node=30", policy.Refused);
        Assert.Contains(host.Warnings, w => w.Contains("refuses the policy"));
    }
}
