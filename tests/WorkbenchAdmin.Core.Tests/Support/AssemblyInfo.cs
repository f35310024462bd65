// Workbench runs on Linux only; these tests use POSIX modes, owners and executables.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
