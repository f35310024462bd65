using WorkbenchAdmin.Core.Balancing;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>The desired state of a cluster, from a YAML file (examples/cluster.yaml documents every field).</summary>
public sealed class ClusterSpec
{
    /// <summary>Every node, as host:port (its www-host-name).</summary>
    public List<string> Nodes { get; set; } = [];
    public string? Balancer { get; set; }
    /// <summary>http or https.</summary>
    public string? Protocol { get; set; }
    public DatabaseSpec? Database { get; set; }
    public string? SharedStoragePath { get; set; }
    /// <summary>The directory holding the users' home directories (checked for root:root).</summary>
    public string? HomeRoot { get; set; }
    /// <summary>How far node clocks may drift apart, in seconds.</summary>
    public double? ClockToleranceSec { get; set; }

    public sealed class DatabaseSpec
    {
        public string? Host { get; set; }
        public int? Port { get; set; }
        public string? Name { get; set; }
    }

    public static ClusterSpec Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WbException("SpecNotReadable", e is FileNotFoundException or DirectoryNotFoundException ? WbErrorCategory.ObjectNotFound : WbErrorCategory.ReadError,
                $"Cannot read the cluster spec '{path}': {e.Message}", path, e);
        }
        return Parse(text, path);
    }

    public static ClusterSpec Parse(string yaml, string path)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        ClusterSpec spec;
        try
        {
            spec = deserializer.Deserialize<ClusterSpec?>(yaml) ?? new ClusterSpec();
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            // The deserializer reports some syntax errors vaguely; the parser locates them precisely.
            var (line, column, message) = SyntaxError(yaml) ?? Describe(e);
            throw new WbException("SpecSyntaxError", WbErrorCategory.ParserError, $"{path}:{line}:{column}: {message}", path, e);
        }
        spec.Validate(path);
        return spec;
    }

    private static (long Line, long Column, string Message) Describe(Exception e) => e is YamlException y
        ? (y.Start.Line, y.Start.Column, (y.InnerException is { } inner && y.Message.Contains("during deserialization", StringComparison.OrdinalIgnoreCase) ? inner.Message : y.Message).Split('\n')[0])
        : (1, 1, e.Message);

    /// <summary>Walks the YAML events; on a syntax error, where and why (the last good position when the parser gives none).</summary>
    private static (long Line, long Column, string Message)? SyntaxError(string yaml)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(yaml));
        var last = YamlDotNet.Core.Mark.Empty;
        try
        {
            while (parser.MoveNext()) last = parser.Current!.End;
            return null;
        }
        catch (YamlException e)
        {
            return Describe(e);
        }
        catch (InvalidOperationException)
        {
            return (last.Line, last.Column, "malformed YAML after this point (an unclosed '[' or '{'?)");
        }
    }

    private void Validate(string path)
    {
        void Bad(string what) => throw new WbException("SpecInvalid", WbErrorCategory.InvalidData, $"{path}: {what}", path);
        foreach (var node in Nodes)
        {
            try { NodeCandidate.Parse(node); }
            catch (WbException) { Bad($"nodes: '{node}' is not host:port"); }
        }
        if (Balancer is not null && !BalancingMethods.IsKnown(Balancer)) Bad($"balancer: '{Balancer}' is not one of {string.Join(", ", BalancingMethods.Names)}");
        if (Protocol is not null && Protocol is not ("http" or "https")) Bad($"protocol: '{Protocol}' is not http or https");
        if (Database?.Port is { } port && port is < 1 or > 65535) Bad($"database.port: {port} is not a port");
        if (ClockToleranceSec is { } t && (!double.IsFinite(t) || t < 0)) Bad($"clockToleranceSec: {t} must be zero or more");
    }
}
