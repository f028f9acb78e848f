//! Pull requests: the files a pull request changes.
//! <https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files>

use serde_json::Value;

use super::{ApiError, GitHub};

/// The API lists at most 3,000 files of a pull request: 30 pages of 100.
const MAX_FILE_PAGES: usize = 30;

/// `GET /repos/{owner}/{repo}/pulls/{number}/files`, every page, as GitHub sends them
/// (`filename`, `status`, `additions`, `patch`, ...).
pub async fn files(gh: &GitHub, number: u64) -> Result<Vec<Value>, ApiError> {
    let first = gh.repo_path(&format!("/pulls/{number}/files?per_page=100"));
    gh.get_all_pages(&first, MAX_FILE_PAGES).await
}
