using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Errors;
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
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).Split('\n')[0];
            throw new WbException("SpecSyntaxError", WbErrorCategory.ParserError, $"{path}:{e.Start.Line}:{e.Start.Column}: {message}", path, e);
        }
        spec.Validate(path);
        return spec;
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
