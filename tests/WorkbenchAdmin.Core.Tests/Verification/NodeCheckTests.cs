using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Commands.Balancer;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Verification;

/// <summary>Each per-node check on a configuration root built to pass it, and on one built to fail it.</summary>
public sealed class NodeCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TestMachine _probes = new() { Name = "testhost" };
    private const UnixFileMode Mode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public void Dispose() => _dir.Dispose();

    /// <summary>A root that passes every per-node check (on a machine where the test runs as root).</summary>
    private string GoodRoot(string name = "good")
    {
        var root = Directory.CreateDirectory(Path.Combine(_dir.Path, name)).FullName;
        var shared = Directory.CreateDirectory(Path.Combine(_dir.Path, name + "-shared")).FullName;
        var home = Directory.CreateDirectory(Path.Combine(_dir.Path, name + "-home")).FullName;
        _probes.NfsPaths.Add(shared);
        File.WriteAllText(Path.Combine(root, "rserver.conf"), $"load-balancing-enabled=1\nserver-shared-storage-path={shared}\nlauncher-sessions-enabled=1\n");
        File.WriteAllText(Path.Combine(root, "load-balancer"), "balancer=sessions\nwww-host-name=node1.example.com:8787\n");
        File.WriteAllText(Path.Combine(root, "launcher.conf"), "[server]\naddress=0.0.0.0\nport=5559\n\n[cluster]\nname=Local\ntype=Local\n");
        // The kernel's mount table as a node with the guide's fstab lines shows it (NFSv3 and NFSv4.2, captured form).
        _probes.MountInfo = _dir.Write(name + "-mountinfo", $"""
            27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
            512 27 0:53 / {home} rw,noatime shared:280 - nfs4 10.0.0.5:/var/nfs/workbench/home rw,sync,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,acregmin=1800,acregmax=1800,acdirmin=1800,acdirmax=1800,hard,noac,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=10.0.0.7,local_lock=none,addr=10.0.0.5
            513 27 0:54 / {shared} rw,noatime shared:281 - nfs 10.0.0.5:/var/nfs/workbench/shared-storage rw,sync,vers=3,rsize=1048576,wsize=1048576,namlen=255,acregmin=1800,acregmax=1800,acdirmin=1800,acdirmax=1800,hard,noac,nolock,proto=tcp,timeo=600,retrans=2,sec=sys,mountaddr=10.0.0.5,mountvers=3,mountport=20048,mountproto=tcp,local_lock=all,addr=10.0.0.5

            """);
        _probes.NfsPaths.Add(home);
        Directory.CreateDirectory(Path.Combine(home, "user1"));
        _probes.Passwd = _dir.Write(name + "-passwd", $"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nuser1:x:1001:1001::{home}/user1:/bin/bash\n");
        _probes.Units = new()
        {
            ["rstudio-server"] = "LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n",
            ["rstudio-launcher"] = "LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n",
        };
        File.WriteAllText(Path.Combine(root, "database.conf"), "provider=postgresql\nhost=pg\npassword=wbenc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
        File.WriteAllText(Path.Combine(root, "secure-cookie-key"), "key\n");
        File.SetUnixFileMode(Path.Combine(root, "database.conf"), Mode600);
        File.SetUnixFileMode(Path.Combine(root, "secure-cookie-key"), Mode600);
        if (UnixFile.EffectiveUserId == 0) UnixFile.ChangeOwner(shared, 65534, 65534);
        _probes.Hosts["node1.example.com"] = ["10.0.0.1"];
        return root;
    }

    private IReadOnlyList<CheckResult> Run(string root, string check, string? home = null) =>
        ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = [check], Machine = _probes, HomeRoot = home }, new RecordingHost());

    private CheckResult One(string root, string check, string? home = null) => Assert.Single(Run(root, check, home));

    private static void AssertFails(CheckResult r, string fileOrPath, string fix, CheckStatus status = CheckStatus.Fail)
    {
        Assert.Equal(status, r.Status);
        Assert.Contains(fileOrPath, r.Found + r.Fix);
        Assert.Contains(fix, r.Fix);
    }

    [RootFact("ownership checks need root-owned files")]
    public void AGoodRootPassesEveryNodeCheck()
    {
        var root = GoodRoot();
        var home = Path.Combine(_dir.Path, "good-home");
        var results = ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = ["config.*", "storage.*", "database.provider", "security.*", "network.www-host-name", "network.port-range", "services.*"], Machine = _probes, HomeRoot = home }, new RecordingHost());
        Assert.Equal(19, results.Count); // storage.nfs-options twice: the shared storage and the home root
        Assert.All(results, r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
    }

    [Fact]
    public void LoadBalancingNotEnabledAndTheLegacyWay()
    {
        var root = GoodRoot();
        var rserver = Path.Combine(root, "rserver.conf");
        File.WriteAllText(rserver, "load-balancing-enabled=0\n");
        AssertFails(One(root, "config.lb-enabled"), rserver, "Set load-balancing-enabled=1 in " + rserver);
        File.WriteAllText(rserver, "# nothing\n");
        AssertFails(One(root, "config.lb-enabled"), "legacy", "load-balancing-enabled=1", CheckStatus.Warn);
    }

    [Fact]
    public void MissingLoadBalancerFile()
    {
        var root = GoodRoot();
        File.Delete(Path.Combine(root, "load-balancer"));
        AssertFails(One(root, "config.lb-file"), Path.Combine(root, "load-balancer"), "Set-WbBalancer");
    }

    [Fact]
    public void SharedStorageUnsetMissingOrLocal()
    {
        var root = GoodRoot();
        var rserver = Path.Combine(root, "rserver.conf");
        File.WriteAllText(rserver, "load-balancing-enabled=1\n");
        AssertFails(One(root, "storage.shared-path"), rserver, "Set server-shared-storage-path");
        File.WriteAllText(rserver, "server-shared-storage-path=/no/such/dir\n");
        AssertFails(One(root, "storage.shared-path"), "/no/such/dir", "Mount the shared storage");
        var local = Directory.CreateDirectory(Path.Combine(_dir.Path, "local")).FullName;
        File.WriteAllText(rserver, $"server-shared-storage-path={local}\n");
        AssertFails(One(root, "storage.shared-path"), local, "Mount the cluster's shared storage");
    }

    [Fact]
    public void LauncherOnLocalhost()
    {
        var root = GoodRoot();
        var launcher = Path.Combine(root, "launcher.conf");
        File.WriteAllText(launcher, "[server]\naddress=localhost\n");
        AssertFails(One(root, "config.launcher-address"), launcher, "Set address=0.0.0.0 in the [server] section of " + launcher);
        File.Delete(launcher);
        AssertFails(One(root, "config.launcher-address"), launcher + " is missing", "address=0.0.0.0");
    }

    [Fact]
    public void SqliteAndSqliteOnNfs()
    {
        var root = GoodRoot();
        var db = Path.Combine(root, "database.conf");
        File.WriteAllText(db, "provider=sqlite\n");
        AssertFails(One(root, "database.provider"), db, "provider=postgresql");
        var nfs = Directory.CreateDirectory(Path.Combine(_dir.Path, "nfs-sqlite")).FullName;
        _probes.NfsPaths.Add(nfs);
        File.WriteAllText(db, $"provider=sqlite\ndirectory={nfs}\n");
        var r = One(root, "database.provider");
        Assert.Contains("network storage", r.Found);
    }

    [Fact]
    public void DatabaseConfAndKeyModes()
    {
        var root = GoodRoot();
        var db = Path.Combine(root, "database.conf");
        File.SetUnixFileMode(db, Mode600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        AssertFails(One(root, "security.database-conf-mode"), db, $"chmod 600 {db}");
        Assert.Contains("mode 644", One(root, "security.database-conf-mode").Found);
        var key = Path.Combine(root, "secure-cookie-key");
        File.SetUnixFileMode(key, Mode600 | UnixFileMode.GroupRead);
        AssertFails(One(root, "security.key-mode"), key, $"chmod 600 {key}");
        File.Delete(key);
        AssertFails(One(root, "security.key-mode"), key, "Copy the cluster's secure-cookie-key");
    }

    [Fact]
    public void PlainTextPasswordWarns()
    {
        var root = GoodRoot();
        var db = Path.Combine(root, "database.conf");
        File.WriteAllText(db, "provider=postgresql\npassword=hunter2\n");
        AssertFails(One(root, "security.plain-password"), db, "Protect-WbDatabasePassword -Apply", CheckStatus.Warn);
        Assert.DoesNotContain("hunter2", One(root, "security.plain-password").ToString());
    }

    /// <summary>What database.conf's password= holds, and what security.plain-password makes of it.</summary>
    public static TheoryData<string, string, CheckStatus, string> Passwords()
    {
        var random = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)); // openssl rand -base64 32
        return new()
        {
            { "openssl rand -base64 32", random, CheckStatus.Warn, "looks like base64 ciphertext, but" },
            { "base64 of whole 16-byte blocks", Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 7 + 1)).ToArray()), CheckStatus.Warn, "looks like base64 ciphertext, but" },
            { "Protect-WbDatabasePassword", Core.Configuration.PasswordProtector.Protect("s3cret", "the-key"u8), CheckStatus.Pass, "encrypted (Protect-WbDatabasePassword" },
            { "our prefix on a plain password", "wbenc:v1:hunter2", CheckStatus.Warn, "is plain text" },
            { "rstudio-server encrypt-password (key hash around it)", "1234ABCD" + random + "1234ABCD", CheckStatus.Pass, "encrypted (rstudio-server encrypt-password" },
            { "key hashes that differ", "1234ABCD" + random + "5678ABCD", CheckStatus.Warn, "is plain text" },
            { "a key hash and nothing else", "1234ABCD1234ABCD", CheckStatus.Warn, "is plain text" },
            { "plain", "hunter2", CheckStatus.Warn, "is plain text" },
        };
    }

    [Theory]
    [MemberData(nameof(Passwords))]
    public void OnlyARecognisableEncryptionPassesAndALookAlikeWarnsSayingSo(string what, string password, CheckStatus status, string found)
    {
        var root = GoodRoot();
        File.WriteAllText(Path.Combine(root, "database.conf"), $"provider=postgresql\npassword={password}\n");
        var r = One(root, "security.plain-password");
        Assert.True(r.Status == status, $"{what}: {r}");
        Assert.Contains(found, r.Found);
        Assert.DoesNotContain(password, r.ToString());
    }

    [Fact]
    public void APasswordLeftInTheConnectionUriIsPlainTextEvenWhenPasswordIsEncrypted()
    {
        // Workbench uses password= over the URI's, but the URI's still sits in the file in plain text.
        var root = GoodRoot();
        var db = Path.Combine(root, "database.conf");
        File.WriteAllText(db, "provider=postgresql\npassword=wbenc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nconnection-uri=postgresql://wb:hunter2@pg/rstudio\n");
        var result = One(root, "security.plain-password");
        Assert.NotEqual(CheckStatus.Pass, result.Status);
        Assert.Contains("connection-uri", result.Found);
        Assert.Contains("Protect-WbDatabasePassword -Apply", result.Fix);
        Assert.DoesNotContain("hunter2", result.ToString());
    }

    [Fact]
    public void WwwHostNameUnsetShortLocalOrUnresolvable()
    {
        var root = GoodRoot();
        var lb = Path.Combine(root, "load-balancer");
        _probes.Hosts["testhost"] = ["10.0.0.9"];
        File.WriteAllText(lb, "balancer=sessions\n");
        AssertFails(One(root, "network.www-host-name"), lb, "Set www-host-name=testhost:8787", CheckStatus.Warn);
        _probes.Hosts["node1"] = ["10.0.0.1"];
        File.WriteAllText(lb, "www-host-name=node1\n");
        AssertFails(One(root, "network.www-host-name"), lb, "fully qualified", CheckStatus.Warn);
        File.WriteAllText(lb, "www-host-name=localhost:8787\n");
        AssertFails(One(root, "network.www-host-name"), lb, "Set www-host-name");
        _probes.Hosts["nowhere.invalid"] = [];
        File.WriteAllText(lb, "www-host-name=nowhere.invalid:8787\n");
        AssertFails(One(root, "network.www-host-name"), lb, "every node resolves");
    }

    [Fact]
    public void OwnershipOfHomeAndSharedStorage()
    {
        var root = GoodRoot();
        Assert.Equal(CheckStatus.Skip, One(root, "storage.home-owner").Status);
        var home = Directory.CreateDirectory(Path.Combine(_dir.Path, "homes")).FullName;
        if (UnixFile.EffectiveUserId == 0)
        {
            Assert.Equal(CheckStatus.Pass, One(root, "storage.home-owner", home).Status);
            UnixFile.ChangeOwner(home, 65534, 65534);
        }
        AssertFails(One(root, "storage.home-owner", home), home, $"chown -R root:root {home}");
        var shared = Path.Combine(_dir.Path, "good-shared");
        if (UnixFile.EffectiveUserId == 0) UnixFile.ChangeOwner(shared, 0, 0);
        AssertFails(One(root, "storage.shared-owner"), shared, $"chown nobody:nogroup {shared}");
    }

    [RootFact("the shared storage must be nobody's for the owner part to pass")]
    public void AnUnsafeMarkersDirectoryInSharedStorageIsReported()
    {
        var root = GoodRoot();
        var shared = Path.Combine(_dir.Path, "good-shared");
        var markers = Path.Combine(shared, NodeFingerprint.MarkerDirectory);
        Directory.CreateSymbolicLink(markers, _dir.Path);
        AssertFails(One(root, "storage.shared-owner"), $"{markers} is a symbolic link", $"rm {markers}");
        File.Delete(markers);
        Directory.CreateDirectory(markers);
        File.SetUnixFileMode(markers, (UnixFileMode)0x1FF);
        AssertFails(One(root, "storage.shared-owner"), $"{markers} is writable by others", $"rm -r {markers}");
    }

    [Fact]
    public void PortRangeIsReadFromTheOs()
    {
        var r = One(GoodRoot(), "network.port-range");
        Assert.Equal(CheckStatus.Pass, r.Status);
        var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Trim().Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"{range[0]}-{range[1]}", r.Found);
    }

    [Fact]
    public void AMalformedFileFailsTheCheckNamingFileAndLine()
    {
        var root = GoodRoot();
        File.WriteAllText(Path.Combine(root, "rserver.conf"), "load-balancing-enabled=1\nbroken line\n");
        var r = One(root, "config.lb-enabled");
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.Contains("rserver.conf:2:", r.Found);
    }

    [Fact]
    public void UnknownCheckIdsAreAnError()
    {
        var e = Assert.Throws<WbException>(() => Run(GoodRoot(), "nosuch.*"));
        Assert.Equal("UnknownCheck", e.ErrorId);
    }

    [Fact]
    public void OnlySpecChecksWithoutASpecAreAnErrorNotAnEmptyPass()
    {
        var e = Assert.Throws<WbException>(() => Run(GoodRoot(), "spec.*"));
        Assert.Equal(("SpecRequired", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains("-Spec", e.Message);
    }

    [Fact]
    public void QuietReturnsOneBoolean()
    {
        var root = GoodRoot();
        var host = new RecordingHost();
        ClusterVerifier.Run(new VerifyRequest { ConfigRoot = root, Check = ["config.lb-file"], Machine = _probes, Quiet = true }, host);
        Assert.True(Assert.IsType<bool>(Assert.Single(host.Objects)));
        File.Delete(Path.Combine(root, "load-balancer"));
        var failing = new RecordingHost();
        ClusterVerifier.Run(new VerifyRequest { ConfigRoot = root, Check = ["config.*"], Machine = _probes, Quiet = true }, failing);
        Assert.False(Assert.IsType<bool>(Assert.Single(failing.Objects)));
    }

    [Theory]
    [InlineData("no database.conf")]
    [InlineData("nothing listening")]
    public void WithoutAStoreEveryCheckThatNeedsItFailsSayingItCouldNotBeChecked(string why)
    {
        var root = GoodRoot();
        var db = Path.Combine(root, "database.conf");
        if (why == "no database.conf") File.Delete(db);
        else File.WriteAllText(db, $"provider=postgresql\nhost=127.0.0.1\nport={Loopback.FreePort()}\npassword=x\nconnection-timeout-seconds=2\n");
        var spec = _dir.Write("cluster.yaml", $"nodes:\n  - node1.example.com:8787\nsharedStoragePath: /nfs/shared\n");

        var results = ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = ["cluster.*", "network.reachable", "database.connections", "spec.nodes", "spec.shared-storage"], SpecPath = spec, Machine = _probes }, new RecordingHost());
        var cannotCheck = results.Where(r => r.CheckId != "spec.shared-storage" || r.Target == "cluster").ToList();
        Assert.Equal(CheckCatalog.All.Count(c => c.Scope == CheckScope.Cluster) + 2, cannotCheck.Count);
        Assert.All(cannotCheck, r =>
        {
            Assert.Equal(CheckStatus.Fail, r.Status);
            Assert.StartsWith("could not be checked: ", r.Found);
            Assert.Contains(why == "no database.conf" ? "database.conf" : "127.0.0.1", r.Found);
            Assert.Contains("reachable", r.Fix);
        });

        var quiet = new RecordingHost();
        ClusterVerifier.Run(new VerifyRequest { ConfigRoot = root, Check = ["cluster.*"], Machine = _probes, Quiet = true }, quiet);
        Assert.False(Assert.IsType<bool>(Assert.Single(quiet.Objects)));
    }

    [Fact]
    public void ProgressIsReportedForEveryCheckAndCompleted()
    {
        var host = new RecordingHost();
        ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = GoodRoot(), Check = ["config.*"], Machine = _probes }, host);
        Assert.Equal(["config.lb-enabled", "config.lb-file", "config.launcher-address", "config.rserver-options", "config.launcher-sessions"], host.Progress.SkipLast(1).Select(p => p.Status.Split(':')[0]));
        Assert.Equal(-1, host.Progress[^1].Percent);
        Assert.True(host.Progress.SkipLast(1).Select(p => p.Percent).SequenceEqual(host.Progress.SkipLast(1).Select(p => p.Percent).Order()));
    }

    [Fact]
    public void NfsOptionsAreComparedWithTheGuidesFstabLine()
    {
        var root = GoodRoot();
        var home = Path.Combine(_dir.Path, "good-home");
        var good = Run(root, "storage.nfs-options", home);
        Assert.Equal(2, good.Count);
        Assert.All(good, r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
        Assert.Contains(good, r => r.Found.Contains("nolock", StringComparison.Ordinal)); // only the NFSv3 mount needs it

        // Mounted with the defaults (no options in fstab): what the kernel shows then.
        var shared = Path.Combine(_dir.Path, "good-shared");
        File.WriteAllText(_probes.MountInfo!, $"27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n" +
            $"600 27 0:60 / {shared} rw,relatime shared:300 - nfs 10.0.0.5:/var/nfs/workbench/shared-storage rw,vers=3,rsize=1048576,wsize=1048576,namlen=255,hard,proto=udp,timeo=11,retrans=3,sec=sys,local_lock=none,addr=10.0.0.5\n");
        var bad = One(root, "storage.nfs-options");
        AssertFails(bad, _probes.MountInfo!, "noac,nofail,noatime,nolock,intr,tcp,actimeo=1800");
        foreach (var option in new[] { "noatime", "noac", "tcp (proto=udp)", "actimeo=1800 (acregmin=default", "nolock" }) Assert.Contains(option, bad.Found);
        Assert.Contains($"{_probes.MountInfo}:2", bad.Found);
    }

    [Fact]
    public void NfsOptionsDoNotApplyWhereThePathIsNotNfs()
    {
        var root = GoodRoot();
        File.WriteAllText(_probes.MountInfo!, "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
        var r = One(root, "storage.nfs-options");
        Assert.Equal(CheckStatus.Skip, r.Status);
        Assert.Contains("is on ext4 at /", r.Found);
        Assert.Contains("not NFS", r.Found);
    }

    [Fact]
    public void NfsOptionsOfAMissingDirectoryPointAtTheCheckThatFailsIt()
    {
        var root = GoodRoot();
        File.WriteAllText(Path.Combine(root, "rserver.conf"), "server-shared-storage-path=/no/such/shared\n");
        var r = One(root, "storage.nfs-options");
        Assert.Equal(CheckStatus.Skip, r.Status);
        Assert.Contains("/no/such/shared (server-shared-storage-path) does not exist on this node (see storage.shared-path)", r.Found);
    }

    [Fact]
    public void AnUnreadableMountTableIsNotAPass()
    {
        var root = GoodRoot();
        _probes.MountInfo = Path.Combine(_dir.Path, "no-such-mountinfo");
        var r = One(root, "storage.nfs-options");
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.StartsWith("could not be checked:", r.Found);
    }

    [Fact]
    public void HomeDirectoriesMustExistOnSharedStorageUnderTheHomeRoot()
    {
        var root = GoodRoot();
        var home = Path.Combine(_dir.Path, "good-home");
        var local = Directory.CreateDirectory(Path.Combine(_dir.Path, "local-home", "user3")).FullName;
        File.WriteAllText(_probes.Passwd!, $"user1:x:1001:1001::{home}/user1:/bin/bash\nuser2:x:1002:1002::{home}/user2:/bin/bash\nuser3:x:1003:1003::{local}:/bin/bash\n");
        var r = One(root, "storage.home-directories", home);
        AssertFails(r, _probes.Passwd!, "shared storage");
        Assert.Contains($"user2: {home}/user2 does not exist", r.Found);
        Assert.Contains($"user3: {local} is not under {home}", r.Found);
        Assert.DoesNotContain("user1", r.Found);
        Assert.Contains("checked on this node", r.Found);

        var noHomeRoot = One(root, "storage.home-directories");
        Assert.Contains($"user3: {local} is on a local file system", noHomeRoot.Found);

        File.WriteAllText(_probes.Passwd!, "root:x:0:0:root:/root:/bin/bash\n");
        Assert.Equal(CheckStatus.Skip, One(root, "storage.home-directories").Status);
        var missingRoot = One(root, "storage.home-directories", Path.Combine(_dir.Path, "no-such-home"));
        Assert.Equal(CheckStatus.Skip, missingRoot.Status);
        Assert.Contains("see storage.home-owner", missingRoot.Found);
    }

    [Theory]
    [InlineData("LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n", CheckStatus.Pass, "")]
    [InlineData("LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n", CheckStatus.Fail, "systemctl enable --now rstudio-server")]
    [InlineData("LoadState=loaded\nActiveState=active\nUnitFileState=disabled\n", CheckStatus.Fail, "systemctl enable rstudio-server")]
    [InlineData("LoadState=loaded\nActiveState=failed\nUnitFileState=enabled\n", CheckStatus.Fail, "journalctl -u rstudio-server")]
    [InlineData("LoadState=not-found\nActiveState=inactive\nUnitFileState=\n", CheckStatus.Fail, "Install Posit Workbench")]
    public void ServicesAreJudgedFromSystemctlShow(string output, CheckStatus status, string fix)
    {
        var root = GoodRoot();
        _probes.Units!["rstudio-server"] = output;
        var r = One(root, "services.rstudio-server");
        Assert.Equal(status, r.Status);
        Assert.Contains(fix, r.Fix);
        Assert.Equal(CheckStatus.Pass, One(root, "services.rstudio-launcher").Status);
    }

    [Fact]
    public void ServicesAreSkippedWithAReasonWithoutSystemd()
    {
        var root = GoodRoot();
        _probes.Units = null;
        var r = One(root, "services.rstudio-launcher");
        Assert.Equal(CheckStatus.Skip, r.Status);
        Assert.Contains("systemd is not running", r.Found);
    }

    [Fact]
    public void LauncherSessionsMustAgreeWithLauncherConf()
    {
        var root = GoodRoot();
        var rserver = Path.Combine(root, "rserver.conf");
        var launcher = Path.Combine(root, "launcher.conf");
        Assert.Equal(CheckStatus.Pass, One(root, "config.launcher-sessions").Status);

        File.WriteAllText(launcher, "[server]\naddress=0.0.0.0\nport=5560\n");
        var r = One(root, "config.launcher-sessions");
        AssertFails(r, $"{rserver}:3", "[cluster] name=Local, type=Local");
        Assert.Contains("no [cluster] section", r.Found);
        Assert.Contains($"launcher.conf's port is 5560 ({launcher}:3)", r.Found);

        File.WriteAllText(rserver, File.ReadAllText(rserver).Replace("launcher-sessions-enabled=1", "launcher-sessions-enabled=0"));
        AssertFails(One(root, "config.launcher-sessions"), $"{rserver}:3", "Set launcher-sessions-enabled=1", CheckStatus.Warn);
    }

    [Fact]
    public void LauncherSessionsAreOnWhenUnsetAsTheGuideSays()
    {
        var root = GoodRoot();
        var rserver = Path.Combine(root, "rserver.conf");
        File.WriteAllText(rserver, File.ReadAllText(rserver).Replace("launcher-sessions-enabled=1\n", ""));
        var r = One(root, "config.launcher-sessions");
        Assert.Equal(CheckStatus.Pass, r.Status);
        Assert.Contains("launcher-sessions-enabled is unset", r.Found);
        Assert.Contains("(on by default)", r.Found);
    }
}
