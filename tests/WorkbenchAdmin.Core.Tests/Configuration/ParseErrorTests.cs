using System.Text;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Configuration;

/// <summary>
/// Errors about a configuration file name the file, line, column and key, and never quote what the line
/// holds: the line may be a password (database.conf) or a key file read by mistake, and the message ends up
/// in a ticket.
/// </summary>
public class ParseErrorTests
{
    private const string Marker = "s3cret-PW-marker";

    /// <summary>Files that fail to read, each with the marker where a value would be; and the line at fault.</summary>
    public static TheoryData<string, byte[], int> Broken => new()
    {
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\npassword={Marker}\npassword={Marker}-again\n"), 3 },
        { "database.conf", [.. "provider=postgresql\npassword="u8, .. Encoding.UTF8.GetBytes(Marker), 0xC3, 0x28, .. "\n"u8], 2 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\n{Marker}\n"), 2 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\n[{Marker}\n"), 2 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\n   ={Marker}\n"), 2 },
        { "rserver.conf", Encoding.UTF8.GetBytes($"www-port={Marker}\n"), 1 },
        { "rserver.conf", Encoding.UTF8.GetBytes($"load-balancing-enabled={Marker}\n"), 1 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider={Marker}\n"), 1 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\nport={Marker}\n"), 2 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\nconnection-uri=postgresql://wb:{Marker}@pg:{Marker}/rstudio\n"), 2 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\nconnection-uri=postgresql://wb@pg/rstudio?{Marker}\n"), 2 },
        { "database.conf", Encoding.UTF8.GetBytes($"provider=postgresql\nconnection-uri=mysql://wb:{Marker}@pg/rstudio\n"), 2 },
        { "load-balancer", Encoding.UTF8.GetBytes($"balancer={Marker}\n"), 1 },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void ParseErrorsNameFileAndLineButNeverQuoteTheLine(string fileName, byte[] content, int line)
    {
        using var dir = new TempDirectory();
        var path = dir.WriteBytes(fileName, content);
        var root = new ConfigRoot(dir.Path);
        var e = Assert.IsType<ConfigFormatException>(Record.Exception(() =>
        {
            RServerConfig.Load(root);
            DatabaseConfig.Load(root);
            LoadBalancerConfig.Load(root);
        }));
        Assert.Equal(("ConfigSyntaxError", WbErrorCategory.ParserError), (e.ErrorId, e.Category));
        Assert.StartsWith($"{path}:{line}:", e.Message);
        Assert.DoesNotContain(Marker, e.Message);
        Assert.DoesNotContain(Marker, e.ToString());
        Assert.DoesNotContain(Marker, e.Target?.ToString() ?? "");
        foreach (var property in typeof(ConfigFormatException).GetProperties())
            Assert.DoesNotContain(Marker, property.GetValue(e)?.ToString() ?? "");
    }
}
