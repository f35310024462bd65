using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Commands.Balancer;
using WorkbenchAdmin.Core.Commands.Config;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Configuration;

/// <summary>
/// Every reader over the fixtures in tests/fixtures/etc-rstudio-shapes (our own files, in the shapes of Posit's Helm
/// chart, Docker images and admin guide): no file Workbench accepts is an error, and each file reads, key by key, as
/// Workbench reads it (kind, section, which repeat of a section, key, value).
/// </summary>
public class ConformanceTests
{
    private static string Shape(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "etc-rstudio-shapes", name);

    /// <summary>A copy of a fixture (the checks and the migration write to it).</summary>
    private static TempDirectory Copy(string name)
    {
        var dir = new TempDirectory();
        foreach (var file in Directory.EnumerateFiles(Shape(name))) File.Copy(file, dir.File(Path.GetFileName(file)));
        return dir;
    }

    private static (List<ConfigEntry> Entries, RecordingHost Host) Read(string root, params string[] files)
    {
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = root, File = files.Length == 0 ? ["*"] : files }, host);
        return (host.ObjectsOf<ConfigEntry>().ToList(), host);
    }

    /// <summary>The entries of one file as (section, instance, key, value) rows, in file order.</summary>
    private static List<(string? Section, string? Instance, string Key, string? Value)> Rows(IEnumerable<ConfigEntry> entries, string file) =>
        entries.Where(e => e.File == file).Select(e => (e.Section, e.Instance, e.Key, e.Value)).ToList();

    public static TheoryData<string> Shapes => new() { "helm-two-clusters", "docker-local", "guide-legacy" };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryFileOfEveryShapeReadsWithoutAnError(string shape)
    {
        var (entries, host) = Read(Shape(shape));
        // The one error allowed: the private key, which is never read.
        Assert.All(host.Errors, e => Assert.Equal("ConfigFileNotReadable", e.ErrorId));
        Assert.NotEmpty(entries);
        foreach (var file in Directory.EnumerateFiles(Shape(shape)).Select(Path.GetFileName))
        {
            var kind = ConfigFileKinds.Of(file!);
            if (kind.IsRead) Assert.Contains(entries, e => e.File == file && e.Kind == kind.Name);
        }
        // And the fingerprint reads every file the same way, none of them compared as raw bytes for failing to parse.
        var (hashes, perKey) = NodeFingerprint.ReadConfigFiles(new ConfigRoot(Shape(shape)));
        foreach (var file in hashes.Keys.Where(f => ConfigFileKinds.Of(f).IsRead)) Assert.True(perKey.ContainsKey(file), file);
    }

    [Fact]
    public void TheHelmShapeReadsKeyByKey()
    {
        var (entries, host) = Read(Shape("helm-two-clusters"));
        Assert.Equal(
        [
            ("cluster", "Kubernetes", "name", "Kubernetes"), ("cluster", "Kubernetes", "type", "Kubernetes"),
            ("cluster", "Local", "name", "Local"), ("cluster", "Local", "type", "Local"),
            ("server", null, "address", "0.0.0.0"), ("server", null, "admin-group", "rstudio-server"), ("server", null, "authorization-enabled", "1"),
            ("server", null, "enable-debug-logging", "0"), ("server", null, "port", "5559"), ("server", null, "server-user", "rstudio-server"),
            ("server", null, "thread-pool-size", "6"),
        ], Rows(entries, "launcher.conf"));
        Assert.Equal("launcher", entries.First(e => e.File == "launcher.conf").Kind);

        // boost's multitoken option: both values, in order.
        Assert.Equal(["X-Frame-Options: SAMEORIGIN", "X-Team: analytics"], entries.Where(e => e.File == "rserver.conf" && e.Key == "server-add-header").Select(e => e.Value));
        Assert.Equal("Kubernetes", entries.Single(e => e.File == "rserver.conf" && e.Key == "launcher-default-cluster").Value);

        Assert.Equal(
        [
            ("*", null, "allow-unknown-images", "1"), ("*", null, "container-images", "example.org/sessions/r-py:2024.12"),
            ("*", null, "default-container-image", "example.org/sessions/r-py:2024.12"),
            ("*", null, "job-json-overrides", "\"/spec/template/spec/volumes/-\":\"/mnt/overrides/scratch-volume.json\",\"/spec/template/spec/containers/0/volumeMounts/-\":\"/mnt/overrides/scratch-mount.json\""),
            ("@data-science", null, "default-cpus", "4"), ("@data-science", null, "max-cpus", "8"),
            ("alice", null, "max-memory-mb", "65536"), ("alice", null, "default-cpus", "2"),
        ], Rows(entries, "launcher.kubernetes.profiles.conf"));
        Assert.Equal([("*", null, "log-level", "info"), ("*", null, "logger-type", "stderr"), ("@rserver", null, "log-level", "debug")], Rows(entries, "logging.conf"));

        // DCF: a field with indented lines under it takes them (one leading blank each dropped, as rstudio's reader does).
        Assert.Equal([(null, "#1", "Environment", "\n TEAM=analytics\n REGION=north"), (null, "#1", "JobType", "session"),
                      (null, "#2", "Environment", "\n QUEUE=batch"), (null, "#2", "JobType", "adhoc")], Rows(entries, "launcher-env"));
        Assert.Equal([(null, "/opt/R/4.3.3", "Path", "/opt/R/4.3.3"), (null, "/opt/R/4.3.3", "Label", "R 4.3 (stable)"), (null, "/opt/R/4.3.3", "Repo", "https://packages.example.org/cran/2024-06-01"),
                      (null, "/opt/R/4.4.1", "Path", "/opt/R/4.4.1"), (null, "/opt/R/4.4.1", "Label", "R 4.4"), (null, "/opt/R/4.4.1", "Module", "r/4.4.1"), (null, "/opt/R/4.4.1", "Script", "/opt/R/4.4.1/setup-env.sh")],
                     Rows(entries, "r-versions"));
        Assert.Equal("The cluster moves to new hardware;\nsessions are suspended at midnight.", entries.Where(e => e.File == "notifications.conf" && e.Key == "Message").Last().Value);
        Assert.Equal(["2026-03-02 08:00:00 +01:00", "2026-04-01 00:00:00 Z"], entries.Where(e => e.File == "notifications.conf" && e.Key == "StartTime").Select(e => e.Instance));
        Assert.Equal(["#1", "#1", "#1", "#2", "#2", "#2", "#2"], entries.Where(e => e.File == "launcher-mounts").Select(e => e.Instance ?? ""));
        Assert.Equal([(null, null, "CRAN", "https://packages.example.org/cran/__linux__/noble/latest"), (null, null, "Internal", "https://packages.example.org/internal/latest")], Rows(entries, "repos.conf"));

        // Not key=value: listed in -Verbose with its kind, never parsed; the private key never read.
        Assert.DoesNotContain(entries, e => e.File is "health-check" or "vscode-user-settings.json" or "launcher.pem");
        Assert.Contains(host.Verbose, v => v.Contains("health-check: kind document"));
        var pem = Assert.Single(host.Errors);
        Assert.Contains("launcher.pem", pem.Message);
        Assert.DoesNotContain("BEGIN", pem.Message);
    }

    [Fact]
    public void TheDockerShapeReadsKeyByKey()
    {
        var (entries, host) = Read(Shape("docker-local"));
        Assert.Empty(host.Errors);
        Assert.Equal("8787", entries.Single(e => e.File == "rserver.conf" && e.Key == "www-port").Value); // "8787  # the image's port"
        Assert.Equal([("server", null, "address", "0.0.0.0"), ("server", null, "port", "5559"), ("server", null, "server-user", "rstudio-server"),
                      ("server", null, "admin-group", "rstudio-server"), ("server", null, "authorization-enabled", "1"), ("server", null, "thread-pool-size", "4"),
                      ("cluster", null, "name", "Local"), ("cluster", null, "type", "Local")], Rows(entries, "launcher.conf"));
        // A block without blank lines between its records: one block, both JobTypes, continuation lines kept.
        Assert.Equal([(null, "#1", "JobType", "session"), (null, "#1", "Environment", "LANG=C.UTF-8\n   LANGUAGE=en_GB:en\n   LC_ALL=C.UTF-8"),
                      (null, "#1", "JobType", "any"), (null, "#1", "Environment", "PATH=/opt/python/current/bin:$PATH")], Rows(entries, "launcher-env"));
        Assert.Equal([(null, null, "quarto.quarto", null), (null, null, "REditorSupport.r@2.8.4", null), (null, null, "ms-python.python@2024.2.1", null)], Rows(entries, "vscode.extensions.conf"));
        Assert.Equal([(null, null, "enabled", "1"), (null, null, "args", "--host=0.0.0.0")], Rows(entries, "vscode.conf")); // the commented-out exe is not read
        Assert.Equal([(null, null, "unprivileged", "1")], Rows(entries, "launcher.local.conf"));
        Assert.Equal("user-hash", BalancerOperations.Read(new ConfigRoot(Shape("docker-local"))).Method);
    }

    [Fact]
    public void TheGuideShapeReadsKeyByKey()
    {
        var (entries, host) = Read(Shape("guide-legacy"));
        Assert.Empty(host.Errors);
        Assert.Equal([("config", null, "balancer", "system-load"), ("nodes", null, "legacy-node1.example.com", null), ("nodes", null, "legacy-node2.example.com", null)], Rows(entries, "load-balancer"));
        Assert.Equal([(null, "/opt/R/3.6.3", "/opt/R/3.6.3", null), (null, "/opt/R/4.1.2", "/opt/R/4.1.2", null)], Rows(entries, "r-versions"));
        Assert.Equal([(null, null, "HTTPS_PROXY", "http://proxy.example.com:3128"), (null, null, "NO_PROXY", "localhost,.example.com")], Rows(entries, "env-vars"));
        Assert.Equal([("*", null, "max-memory-mb", "8192"), ("@power-users", null, "max-memory-mb", "32768"), ("@power-users", null, "max-processes", "400"),
                      ("bob", null, "r-version", "/opt/R/4.1.2")], Rows(entries, "profiles"));
        Assert.Contains(host.Verbose, v => v.Contains("login.html: kind document"));
        var lb = LoadBalancerConfig.Load(new ConfigRoot(Shape("guide-legacy")));
        Assert.True(lb.LegacyForm);
        Assert.Equal(("system-load", 2), (lb.Method, lb.LegacyNodes.Count));
    }

    [Fact]
    public void EveryNodeCheckRunsOnTheTwoClusterLauncherConf()
    {
        using var dir = Copy("helm-two-clusters");
        var host = new RecordingHost();
        var results = ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = dir.Path, Check = ["config.*", "network.*", "security.*", "storage.*", "database.*", "services.*"], Machine = new TestMachine() }, host)
            .Where(r => CheckCatalog.Get(r.CheckId).Scope == CheckScope.Node).ToList();
        Assert.DoesNotContain(results, r => r.Found.StartsWith("could not be checked", StringComparison.Ordinal));
        Assert.Equal(CheckCatalog.All.Where(c => c.Scope == CheckScope.Node).Select(c => c.Id), results.Select(r => r.CheckId).Distinct());
        var sessions = results.Single(r => r.CheckId == "config.launcher-sessions");
        Assert.Equal(CheckStatus.Pass, sessions.Status);
        Assert.Contains("[cluster] Kubernetes, Local", sessions.Found);
        Assert.Equal(CheckStatus.Pass, results.Single(r => r.CheckId == "config.launcher-address").Status);
        Assert.Equal(CheckStatus.Pass, results.Single(r => r.CheckId == "config.rserver-options").Status);
    }

    [Fact]
    public void ADefaultClusterLauncherConfDoesNotNameFailsTheLauncherSessionsCheck()
    {
        using var dir = Copy("helm-two-clusters");
        File.WriteAllText(dir.File("rserver.conf"), File.ReadAllText(dir.File("rserver.conf")).Replace("launcher-default-cluster=Kubernetes", "launcher-default-cluster=Slurm"));
        var r = Assert.Single(ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = dir.Path, Check = ["config.launcher-sessions"], Machine = new TestMachine() }, new RecordingHost()));
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.Contains("launcher-default-cluster=Slurm", r.Found);
        Assert.Contains("names no [cluster]", r.Found);
    }

    [Fact]
    public void TwoClustersOfOneNameAreAnErrorNamingTheLine()
    {
        var e = Assert.Throws<ConfigFormatException>(() => LauncherConfig.From(ConfigDocument.Parse("[cluster]\nname=Local\ntype=Local\n\n[cluster]\nname=Local\ntype=Kubernetes\n", "/etc/rstudio/launcher.conf")));
        Assert.Equal(5, e.LineNumber);
    }

    [Fact]
    public void ClustersInAnotherOrderFingerprintAlikeAndADifferenceIsNamedBySectionAndKey()
    {
        using var a = Copy("helm-two-clusters");
        using var b = Copy("helm-two-clusters");
        File.WriteAllText(b.File("launcher.conf"), "[server]\naddress=0.0.0.0\nadmin-group=rstudio-server\nauthorization-enabled=1\nenable-debug-logging=0\nport=5559\nserver-user=rstudio-server\nthread-pool-size=6\n\n# the clusters\n[cluster]\ntype=Local\nname=Local\n\n[cluster]\nname=Kubernetes\ntype=Kubernetes\n");
        // The node's own address differs too, as the guide allows.
        File.WriteAllText(b.File("load-balancer"), "balancer=sessions\nwww-host-name=10.42.0.18\n");
        var (hashesA, entriesA) = NodeFingerprint.ReadConfigFiles(new ConfigRoot(a.Path));
        var (hashesB, entriesB) = NodeFingerprint.ReadConfigFiles(new ConfigRoot(b.Path));
        Assert.Equal(hashesA, hashesB);

        File.WriteAllText(b.File("launcher.conf"), File.ReadAllText(b.File("launcher.conf")).Replace("name=Kubernetes\ntype=Kubernetes", "name=Kubernetes\ntype=Slurm"));
        File.WriteAllText(b.File("rserver.conf"), File.ReadAllText(b.File("rserver.conf")) + "www-thread-pool-size=4\n");
        var (_, changed) = NodeFingerprint.ReadConfigFiles(new ConfigRoot(b.Path));
        var odd = new NodeFingerprint { ConfigEntries = changed };
        var reference = new NodeFingerprint { ConfigEntries = entriesA };
        Assert.Equal(": [cluster Kubernetes] type", ClusterChecks.WhereItDiffers("launcher.conf", odd, reference));
        Assert.Equal(": www-thread-pool-size (only here)", ClusterChecks.WhereItDiffers("rserver.conf", odd, reference));
    }

    [Fact]
    public void SetWbBalancerMigratesTheLegacyFormAndWhatIfChangesNothing()
    {
        using var dir = Copy("guide-legacy");
        var before = File.ReadAllText(dir.File("load-balancer"));
        var whatIf = new RecordingHost(confirm: false);
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path }, whatIf);
        Assert.Equal(before, File.ReadAllText(dir.File("load-balancer")));
        var (_, action) = Assert.Single(whatIf.ShouldProcessCalls, c => c.Target.EndsWith("load-balancer", StringComparison.Ordinal));
        Assert.Contains("balancer = system-load", action);
        Assert.Contains("[nodes]", action);

        var host = new RecordingHost();
        var settingBefore = BalancerOperations.Read(new ConfigRoot(dir.Path));
        Assert.True(settingBefore.LegacyForm);
        Assert.Contains(settingBefore.Warnings, w => w.Contains("pre-2021.09"));
        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = dir.Path }, host);
        Assert.Equal("balancer=system-load\n", File.ReadAllText(dir.File("load-balancer")));
        var after = BalancerOperations.Read(new ConfigRoot(dir.Path));
        Assert.Equal(("system-load", false, LoadBalancingState.Enabled), (after.Method, after.LegacyForm, after.LoadBalancing));
    }
}
