/// mimalloc rather than the system allocator: a plan or the lab allocates millions of small JSON
/// values across many threads, where glibc's allocator spent a fifth of the CPU (measured with the
/// scale bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tenantctl::no_transparent_huge_pages();
    tenantctl::cli::main()
}
