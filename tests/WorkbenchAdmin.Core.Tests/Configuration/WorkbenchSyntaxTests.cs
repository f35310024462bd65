using System.Text;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Configuration;

/// <summary>
/// Workbench reads rserver.conf and its siblings with boost's config-file rules ('#' starts a comment
/// anywhere on a line), and database.conf with its own key=value reader (no comment after a value: a '#'
/// there belongs to the value, as in a password). We read each as Workbench does.
/// </summary>
public class WorkbenchSyntaxTests
{
    private static readonly Func<string, string, bool> Yes = (_, _) => true;

    [Fact]
    public void AHashStartsACommentAnywhereOnALineOfRServerConf()
    {
        var doc = ConfigDocument.Parse(
            "www-port=8787 # default\nserver-shared-storage-path = /nfs/shared#project sharing\nload-balancing-enabled=1#on\n" +
            "secure-cookie-key-file=/etc/rstudio/key  # shared by every node\n# a whole-line comment = with an equals sign\nwww-address=#unset\n",
            "rserver.conf");
        var rserver = RServerConfig.From(doc);
        Assert.Equal(8787, rserver.WwwPort);
        Assert.Equal("/nfs/shared", rserver.ServerSharedStoragePath);
        Assert.True(rserver.LoadBalancingEnabled);
        Assert.Equal("/etc/rstudio/key", rserver.SecureCookieKeyFile);
        Assert.Equal("0.0.0.0", rserver.WwwAddress); // empty before the '#': the default
        Assert.Equal(["www-port", "server-shared-storage-path", "load-balancing-enabled", "secure-cookie-key-file", "www-address"], doc.Entries.Select(l => l.Key));
    }

    [Fact]
    public void SectionHeadersAndListItemsMayCarryAComment()
    {
        var launcher = LauncherConfig.From(ConfigDocument.Parse("[server] # the launcher\naddress=0.0.0.0 # every interface\nport=5559\n", "launcher.conf"));
        Assert.Equal(("0.0.0.0", 5559), (launcher.Address, launcher.Port));
        var lb = LoadBalancerConfig.From(ConfigDocument.Parse("[config]\nbalancer=user-hash # sticky\n[nodes]\nnode1.example.com # first\n", "load-balancer", ConfigDialect.LoadBalancer));
        Assert.Equal("user-hash", lb.Method);
        Assert.Equal(["node1.example.com"], lb.LegacyNodes);
    }

    [Theory]
    [InlineData("key # comment=value\n")]   // boost: nothing before '#' has an '='
    [InlineData("[server # comment]\n")]    // the header's ']' is commented out
    public void WhatBoostRejectsIsRejected(string text) =>
        Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse(text, "rserver.conf"));

    [Fact]
    public void DatabaseConfKeepsAHashInAValue()
    {
        using var dir = new TempDirectory();
        dir.Write("database.conf", "provider=postgresql\nhost=pg\npassword=pa#ss # word\n");
        dir.Write("db-prod.conf", "provider=postgresql\npassword=other#secret\n");
        Assert.Equal("pa#ss # word", DatabaseConfig.Load(new ConfigRoot(dir.Path)).Password!.Reveal());
        // A database config file of another name (database-config-file) is read the same way.
        dir.Write("rserver.conf", "database-config-file=db-prod.conf # the production store\n");
        var root = new ConfigRoot(dir.Path);
        Assert.Equal("other#secret", DatabaseConfig.Load(root, RServerConfig.Load(root)).Password!.Reveal());
        // And a comment after a value is part of it there, as Workbench takes it: not a provider it knows.
        dir.Write("db-prod.conf", "provider=postgresql # the cluster's\n");
        Assert.Throws<ConfigFormatException>(() => DatabaseConfig.Load(root, RServerConfig.Load(root)));
    }

    [Fact]
    public void EditingAValueKeepsItsTrailingCommentAndEveryOtherByte()
    {
        using var dir = new TempDirectory();
        const string before = "# rserver\r\nwww-port = 8787   # default\r\nload-balancing-enabled=0#off for now\r\nwww-address=  # unset\r\n";
        var path = dir.Write("rserver.conf", before);
        new ConfigEditor(new ConfigRoot(dir.Path)).Edit("rserver.conf",
            [new ConfigChange(null, "www-port", "443"), new ConfigChange(null, "load-balancing-enabled", "1"), new ConfigChange(null, "www-address", "10.0.0.1")], Yes);
        var after = File.ReadAllText(path);
        Assert.Equal("# rserver\r\nwww-port = 443   # default\r\nload-balancing-enabled=1#off for now\r\nwww-address=  10.0.0.1 # unset\r\n", after);
        var rserver = RServerConfig.Load(new ConfigRoot(dir.Path));
        Assert.Equal((443, true, "10.0.0.1"), (rserver.WwwPort, rserver.LoadBalancingEnabled, rserver.WwwAddress));
    }

    [Theory]
    [InlineData("rserver.conf", null, "server-shared-storage-path", "/nfs/shared#2")]
    [InlineData("launcher.conf", "server", "address", "0.0.0.0 #x")]
    [InlineData("load-balancer", null, "www-host-name", "node1#8787")]
    public void AValueWithAHashIsRefusedForWorkbenchsBoostFiles(string file, string? section, string key, string value)
    {
        using var dir = new TempDirectory();
        var path = dir.Write(file, "# untouched\n");
        var e = Assert.Throws<WbException>(() => new ConfigEditor(new ConfigRoot(dir.Path)).Edit(file, [new ConfigChange(section, key, value)], Yes));
        Assert.Equal(("InvalidConfigValue", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains("'#'", e.Message);
        Assert.Contains(key, e.Message);
        Assert.Equal("# untouched\n", File.ReadAllText(path));
    }

    [Fact]
    public void APasswordWithAHashIsStoredInDatabaseConf()
    {
        using var dir = new TempDirectory();
        dir.Write("database.conf", "provider=postgresql\n");
        new ConfigEditor(new ConfigRoot(dir.Path)).Edit("database.conf", [new ConfigChange(null, "password", "pa#ss")], Yes);
        Assert.Equal("pa#ss", DatabaseConfig.Load(new ConfigRoot(dir.Path)).Password!.Reveal());
    }

    [Fact]
    public void RoundTripsStayByteIdenticalWithComments()
    {
        var bytes = Encoding.UTF8.GetBytes("a=1 # one\r\n[s] # section\nb = 2#two\n  # indented\nc=\n");
        Assert.Equal(bytes, ConfigDocument.Parse(bytes, "rserver.conf").ToBytes());
    }
}
